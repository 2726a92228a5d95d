/*
 * xenemu: attaching to the shared state, locking, domains and their RAM
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* For XEN_DOMINF_*: the domctl ABI is only visible to "tools". */
#include <xenctrl.h>

#include "state.h"

static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;
static XenemuShared *shared;
static char state_dir[PATH_MAX];

/* This process's mapping of each domain slot's RAM, valid for one gen. */
static struct {
    uint32_t gen;
    int fd;
    uint8_t *base;
} ram_cache[XENEMU_MAX_DOMAINS];

const char *xenemu_state_dir(void)
{
    return state_dir[0] ? state_dir : NULL;
}

static XenemuShared *map_shared(const char *dir, int oflags)
{
    char path[PATH_MAX];
    XenemuShared *s;
    int fd;

    snprintf(path, sizeof(path), "%s/shm", dir);
    fd = open(path, oflags | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        return NULL;
    }
    if ((oflags & O_CREAT) && ftruncate(fd, sizeof(XenemuShared)) < 0) {
        close(fd);
        return NULL;
    }
    s = mmap(NULL, sizeof(XenemuShared), PROT_READ | PROT_WRITE, MAP_SHARED,
             fd, 0);
    close(fd);
    if (s == MAP_FAILED) {
        return NULL;
    }
    return s;
}

XenemuShared *xenemu_state(void)
{
    const char *dir;
    XenemuShared *s;

    if (__atomic_load_n(&shared, __ATOMIC_ACQUIRE)) {
        return shared;
    }
    pthread_mutex_lock(&attach_lock);
    if (shared) {
        pthread_mutex_unlock(&attach_lock);
        return shared;
    }
    dir = getenv("XENEMU_STATE");
    if (!dir || !*dir) {
        pthread_mutex_unlock(&attach_lock);
        errno = ENOENT;
        return NULL;
    }
    s = map_shared(dir, 0);
    /* A library built with another layout must not touch the state. */
    if (s && (s->magic != XENEMU_MAGIC || s->version != XENEMU_VERSION ||
              s->size != sizeof(XenemuShared))) {
        munmap(s, sizeof(*s));
        s = NULL;
        errno = EPROTO;
    }
    if (s) {
        snprintf(state_dir, sizeof(state_dir), "%s", dir);
        __atomic_store_n(&shared, s, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&attach_lock);
    return s;
}

int xenemu_state_create(const char *dir)
{
    pthread_mutexattr_t attr;
    XenemuShared *s;
    XenemuDomain *d0;
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/ev", dir);
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        return -errno;
    }
    s = map_shared(dir, O_CREAT | O_EXCL);
    if (!s) {
        return -errno;
    }
    memset(s, 0, sizeof(*s));
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&s->lock, &attr);
    pthread_mutexattr_destroy(&attr);

    /* dom0: no RAM of its own here, it is the host. */
    d0 = &s->domains[0];
    d0->in_use = 1;
    d0->domid = 0;
    d0->gen = ++s->dom_gen;
    d0->dominf_flags = XEN_DOMINF_running;

    s->version = XENEMU_VERSION;
    s->size = sizeof(XenemuShared);
    __atomic_store_n(&s->magic, XENEMU_MAGIC, __ATOMIC_RELEASE);
    munmap(s, sizeof(*s));
    return 0;
}

void xenemu_lock(XenemuShared *s)
{
    /*
     * A process killed inside a critical section (a test that SIGKILLs
     * QEMU) leaves at worst one half-done operation; carrying on is what
     * a test double should do.
     */
    if (pthread_mutex_lock(&s->lock) == EOWNERDEAD) {
        pthread_mutex_consistent(&s->lock);
    }
}

void xenemu_unlock(XenemuShared *s)
{
    pthread_mutex_unlock(&s->lock);
}

bool xenemu_pid_alive(pid_t pid)
{
    char path[32], buf[256], *end;
    ssize_t len;
    int fd;

    if (kill(pid, 0) < 0 && errno == ESRCH) {
        return false;
    }
    /*
     * A zombie has exited (its fds are closed) but lingers until its parent
     * reaps it: treat it as gone, as the kernel does.  Without /proc, kill()
     * alone decides.
     */
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return true;
    }
    len = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (len <= 0) {
        return false;
    }
    buf[len] = '\0';
    /* "pid (comm) S ...": comm may hold anything, the state follows it. */
    end = strrchr(buf, ')');
    return !end || end[1] != ' ' || (end[2] != 'Z' && end[2] != 'X');
}

XenemuDomain *xenemu_domain(XenemuShared *s, uint32_t domid)
{
    for (int i = 0; i < XENEMU_MAX_DOMAINS; i++) {
        if (s->domains[i].in_use && s->domains[i].domid == domid) {
            return &s->domains[i];
        }
    }
    return NULL;
}

XenemuPort *xenemu_port(XenemuDomain *d, uint32_t port)
{
    if (port == 0 || port >= XENEMU_NR_PORTS) {
        return NULL;
    }
    return &d->ports[port];
}

void xenemu_ram_path(char *buf, size_t len, uint32_t domid, uint32_t gen)
{
    snprintf(buf, len, "%s/ram.%u.%u", state_dir, domid, gen);
}

static int ram_slot(XenemuDomain *d)
{
    int slot = d - shared->domains;
    char path[PATH_MAX];
    size_t size;
    uint8_t *base;
    int fd;

    if (ram_cache[slot].base && ram_cache[slot].gen == d->gen) {
        return slot;
    }
    if (d->nr_pages == 0) {
        errno = EINVAL;
        return -1;
    }
    xenemu_ram_path(path, sizeof(path), d->domid, d->gen);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size = d->nr_pages << XENEMU_PAGE_SHIFT;
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        close(fd);
        return -1;
    }
    /*
     * The slot held a domain that was destroyed.  Its mapping is left in
     * place: a grant copy of another thread may still be reading through
     * it outside the lock, and re-creating domains is rare.
     */
    if (ram_cache[slot].base) {
        close(ram_cache[slot].fd);
    }
    ram_cache[slot].gen = d->gen;
    ram_cache[slot].fd = fd;
    ram_cache[slot].base = base;
    return slot;
}

uint8_t *xenemu_ram(XenemuDomain *d)
{
    int slot = ram_slot(d);

    return slot < 0 ? NULL : ram_cache[slot].base;
}

int xenemu_ram_fd(XenemuDomain *d)
{
    int slot = ram_slot(d);

    return slot < 0 ? -1 : ram_cache[slot].fd;
}
