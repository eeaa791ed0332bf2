/*
 * One live migration on SimGrid's plugin (simgrid/plugins/live_migration.h), with what the
 * plugin does not report itself: its transfers (passes), their bytes, and the VM's downtime,
 * taken from SimGrid's signals. Any mode of the peer runs migrations through this.
 */
#ifndef SIMGRID_PEER_MIGRATION_HPP
#define SIMGRID_PEER_MIGRATION_HPP

#include <simgrid/s4u/Host.hpp>

#include <optional>
#include <string>

/** SimGrid 3.32 fixes every VM's max downtime at 30 ms (dirty_page_tracking.cpp): there is no setter. */
constexpr double PLUGIN_MAX_DOWNTIME_S = 0.03;

struct MigrationSettings {
  double ram_bytes;
  /** The migration's rate (sg_vm_set_migration_speed): every transfer, the last included, goes at it. */
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
 * Creates a VM named `vm_name` (unique in the simulation) on `source` with a computation that
 * dirties its memory at the settings' rate, migrates it to `destination`, then destroys it.
 * Called from an actor; returns when the migration has ended or been given up at the timeout.
 */
MigrationOutcome run_migration(const MigrationSettings& settings, simgrid::s4u::Host* source,
                               simgrid::s4u::Host* destination, const std::string& vm_name);

#endif
