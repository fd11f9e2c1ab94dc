/* images/recipe.h: template recipes, `vhdvisor image build RECIPE`.
 *
 * A recipe is a folder NAME/ holding
 *   build.sh     executable; run as `build.sh OUT` it writes a VHD to OUT
 *                and exits 0, or exits non-zero with the reason on stderr;
 *   recipe.env   the catalog metadata, KEY=VALUE lines (# comments):
 *                OS, ARCH, BOOT (a vhdvisor run boot mode), MIN_MEM and
 *                MIN_DISK (sizes with binary suffixes).
 *
 * Recipes are looked for in $VHDVISOR_RECIPES alone when it is set; else
 * in images/recipes of the source tree holding the running binary (its
 * folder and up to three parents), then /usr/local/share/vhdvisor/recipes
 * and /usr/share/vhdvisor/recipes.
 *
 * Functions return 0 or -errno with the reason in img_last_error().
 */
#ifndef VV_IMAGES_RECIPE_H
#define VV_IMAGES_RECIPE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "images/catalog.h"
#include "images/img_store.h"

struct recipe {
	char name[CAT_NAME_MAX + 1];
	char dir[PATH_MAX];
	char os[64], arch[16], boot[16];   /* "" when recipe.env omits them */
	uint64_t min_mem, min_disk;        /* bytes; 0 when omitted */
};

/* Finds recipe @name and reads its recipe.env. -ENOENT when no folder
 * of the search path has it (img_last_error() lists the known ones),
 * -EINVAL for a bad name or bad metadata. */
int recipe_find(const char *name, struct recipe *out);

/* Runs the recipe's build.sh from an argv into STATE/tmp (stdin from
 * /dev/null, stdout and stderr to a log there) and imports the VHD it
 * wrote through img_import (verified, content-addressed) with source
 * "recipe:NAME". The recipe's metadata fills what @o leaves NULL/0.
 * Every temporary file is removed on every path. A failing build is -EIO
 * with its exit status and the last lines of its stderr. */
int img_build(struct cat *c, const struct recipe *rc, const struct img_import_opts *o,
	      struct img_import_result *res);

#endif
