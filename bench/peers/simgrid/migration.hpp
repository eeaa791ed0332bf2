/*
 * One live migration on SimGrid's plugin (simgrid/plugins/live_migration.h), with what the
 * plugin does not report itself: its transfers (passes), their bytes, and the VM's downtime,
 * taken from SimGrid's signals. Any mode of the peer runs migrations through this.
 */
#ifndef SIMGRID_PEER_MIGRATION_HPP
#define SIMGRID_PEER_MIGRATION_HPP

#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/VirtualMachine.hpp>

#include <optional>
#include <string>

/** SimGrid 3.32 fixes every VM's max downtime at 30 ms (dirty_page_tracking.cpp): there is no setter. */
constexpr double PLUGIN_MAX_DOWNTIME_S = 0.03;

/** How long a VM computes before its first migration starts, so that the dirty-page tracking finds its computation running. */
constexpr double DIRTIER_LEAD_S = 0.1;

struct MigrationSettings {
  double ram_bytes;
  /**
   * The migration's rate (sg_vm_set_migration_speed): every transfer, the last included, goes at
   * it, or at its share of the links where that is lower. The plugin also scales the dirtying by
   * it (the dirty rate is set as a fraction of it), so it must be positive.
   */
  double bandwidth_bytes_per_s;
  /** The most the VM dirties between two transfers (sg_vm_set_working_set_memory). */
  double working_set_bytes;
  double dirty_bytes_per_s;
  /** A migration whose VM is not stopped for its last copy this long after the start did not converge. */
  double timeout_s;
};

struct MigrationOutcome {
  bool converged;
  /** From sg_vm_migrate to its return; the timeout where it did not converge. */
  double total_s;
  double bytes;
  /** From the VM's suspension to its resumption on the destination; none where it did not converge. */
  std::optional<double> downtime_s;
  /** Transfers of memory: the whole RAM, each round of dirty pages, the last copy. */
  int passes;
};

/** Connects the signals the outcomes are read from; once, before the simulation runs. */
void observe_migrations();

/**
 * Creates and starts a VM named `vm_name` (unique in the simulation) on `host`, of the
 * settings' RAM, migration rate and working set, and, when it dirties memory, with a
 * computation of one core (`HOST_FLOPS`) for `dirty_for_s` that dirties it at the settings'
 * rate. The computation must have started before a migration begins for the plugin's tracking
 * to find it: let some simulated time pass (a `sleep_for`) before the first migration.
 */
simgrid::s4u::VirtualMachine* start_vm(const MigrationSettings& settings, simgrid::s4u::Host* host,
                                       const std::string& vm_name, double dirty_for_s);

/**
 * Migrates a running VM (from `start_vm`) to `destination`. Called from an actor; returns when
 * the migration has ended or, past `timeout_s`, been given up (the VM is then still
 * migrating: the caller destroys it).
 */
MigrationOutcome migrate_vm(simgrid::s4u::VirtualMachine* vm, simgrid::s4u::Host* destination, double timeout_s);

/**
 * Creates a VM named `vm_name` (unique in the simulation) on `source` with a computation that
 * dirties its memory at the settings' rate (`start_vm`), migrates it to `destination`
 * (`migrate_vm`, given up at the settings' timeout), then destroys it.
 * Called from an actor; returns when the migration has ended or been given up at the timeout.
 */
MigrationOutcome run_migration(const MigrationSettings& settings, simgrid::s4u::Host* source,
                               simgrid::s4u::Host* destination, const std::string& vm_name);

#endif
