# Devices for the Xen PV block backend build: the i440FX board gives the
# xenfv machine; xenpv needs no board device.  Xen devices come with
# CONFIG_XEN from the accelerator.
CONFIG_I440FX=y
