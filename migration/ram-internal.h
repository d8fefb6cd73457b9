/* Private to migration/: the RAM section's hooks into the registry. */
#ifndef MIGRATION_RAM_INTERNAL_H
#define MIGRATION_RAM_INTERNAL_H

/* Frees every RAM block (savevm_registry_reset calls this after it has
 * dropped the "ram" section). */
void ram_registry_reset(void);

#endif
