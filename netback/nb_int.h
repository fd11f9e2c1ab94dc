/* netback/nb_int.h: helpers shared inside netback/ only. */
#ifndef VV_NETBACK_NB_INT_H
#define VV_NETBACK_NB_INT_H

/* Creates @path and its missing parents (mode 0755). 0 or -errno. */
int nb_mkdir_p(const char *path);

#endif
