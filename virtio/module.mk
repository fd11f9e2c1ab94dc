MODULES += virtio
virtio_SRCS := $(wildcard virtio/*.c)
