/* netback/mac.h: Ethernet addresses for guest NICs and our bridges. */
#ifndef VV_NETBACK_MAC_H
#define VV_NETBACK_MAC_H

#include <stdint.h>
#include <stddef.h>

#define MAC_LEN 6
#define MAC_STR_LEN 18 /* "xx:xx:xx:xx:xx:xx" + NUL */

/* Derives a locally administered unicast address from @seed and @index
 * (e.g. a VM's name and its NIC number): the same inputs always give the
 * same address, different inputs give different ones with overwhelming
 * probability (46 hashed bits). Never fails. */
void mac_generate(const char *seed, unsigned int index, uint8_t mac[MAC_LEN]);

/* Parses "xx:xx:xx:xx:xx:xx" (hex, ':' or '-' separators, any case).
 * Returns 0, or -EINVAL for anything else and for multicast, broadcast or
 * all-zero addresses (a NIC cannot use those). */
int mac_parse(const char *s, uint8_t mac[MAC_LEN]);

/* Writes @mac as "xx:xx:xx:xx:xx:xx" into @buf (MAC_STR_LEN bytes) and
 * returns @buf. */
char *mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STR_LEN]);

#endif
