MODULES += hv
hv_SRCS := $(wildcard hv/*.c)
LDLIBS += -ljson-c -lext2fs -lcom_err -llzma
