/*
 * The speed modes: the migrations of bench/speed.ts's scenarios on SimGrid, for the bench to
 * set the wall time of SimGrid's simulation loop beside the project's sim's. Each mode builds
 * its platform and VMs, runs the simulation, and prints one CSV row under a header:
 *
 *   scenario,migrations,converged,simulated_s,bytes,passes,wall_s
 *
 * `wall_s` is the wall time of engine.run() alone (std::chrono::steady_clock around it): the
 * process's start, SimGrid's initialisation, building the platform and creating the VMs come
 * before it and are left out; bytes and passes are summed over the migrations.
 *
 * The scenarios (the same block is in bench/speed.ts; README.md has them as a table):
 *
 *   sequential N: 2 hosts, each with a 1 Gbit/s link (125,000,000 B/s) of its own each way, no
 *     latency; one VM of 512 MiB dirtying 20 MiB/s over a 64 MiB working set, migrated N times
 *     back and forth between the two hosts, each migration starting as the one before ends, the
 *     first at 0.1 s.
 *   concurrent N: 2 hosts, each with a 10 Gbit/s link (1,250,000,000 B/s) of its own each way,
 *     no latency; N idle VMs of 256 MiB (nothing dirtied), all migrating at 0 s from the one
 *     host to the other, sharing the one's link out and the other's link in.
 *   datacenter: bench/datacenter.ts's hosts, VMs and migrations, without its clients: 100 hosts
 *     of 24 cores, each with a 1 Gbit/s link of its own each way (no latency); 2,000 VMs of
 *     512 MiB (20 a host), each dirtying 0.5 MiB/s over a 16 MiB working set (the sim's default
 *     guest OS); migration i (0 to 199) at 9 + 18 i s moves the (i / 100)-th VM of host i % 100
 *     to host (i % 100 + 50) % 100; the run ends at 3,600 s.
 *
 *   Both models, every scenario: a migration sends all of its VM's memory, then what was
 *   dirtied meanwhile (at most the working set), again until what is left fits in 30 ms at the
 *   last pass's rate, then stops the VM and sends the rest; no setup, switchover or stream CPU
 *   cost; a stream gets 97 % of its share of the links (SimGrid's default network model's
 *   bandwidth factor; the sim's linkEfficiency is set to it). The one difference in the work:
 *   the sim's datacenter VMs have written 140 MiB of their 512 (its default guest) and send the
 *   rest as 16-byte zero-page records, where SimGrid sends every byte of RAM.
 */
#include "migration.hpp"
#include "modes.hpp"
#include "platform.hpp"

#include <simgrid/s4u/Actor.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace sg4 = simgrid::s4u;

namespace {

constexpr double MiB = 1024.0 * 1024.0;
constexpr double GIGABIT_BYTES_PER_S = 1e9 / 8;

/** Longer than any scenario: each migrating VM dirties for this long (it is destroyed at the end). */
constexpr double DIRTY_FOR_S = 1e7;
/** No migration of these scenarios comes near it: each converges in seconds. */
constexpr double MIGRATION_TIMEOUT_S = 3600;

struct Tally {
  int migrations = 0;
  int converged  = 0;
  double bytes   = 0;
  long passes    = 0;

  void add(const MigrationOutcome& outcome)
  {
    migrations++;
    converged += outcome.converged ? 1 : 0;
    bytes += outcome.bytes;
    passes += outcome.passes;
  }
};

int positive_count(const std::string& text, const char* what)
{
  size_t used = 0;
  long value  = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value <= 0 || value > 1'000'000)
    throw std::invalid_argument(std::string(what) + " must be a whole number from 1 to 1000000, not '" + text + "'");
  return static_cast<int>(value);
}

/** Runs the simulation, timing engine.run() alone, and prints the mode's row. */
int run_and_print(sg4::Engine& engine, const std::string& scenario, const Tally& tally)
{
  const auto started = std::chrono::steady_clock::now();
  engine.run();
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started;
  std::printf("scenario,migrations,converged,simulated_s,bytes,passes,wall_s\n");
  std::printf("%s,%d,%d,%.9g,%.0f,%ld,%.6f\n", scenario.c_str(), tally.migrations, tally.converged, sg4::Engine::get_clock(),
              tally.bytes, tally.passes, wall.count());
  return 0;
}

int usage(const char* text)
{
  std::fprintf(stderr, "%s\n", text);
  return 2;
}

} // namespace

int sequential_mode(sg4::Engine& engine, const std::vector<std::string>& arguments)
{
  if (arguments.size() != 1)
    return usage("sequential: expected one argument, the number of migrations");
  int count;
  try {
    count = positive_count(arguments[0], "sequential: the number of migrations");
  } catch (const std::invalid_argument& problem) {
    return usage(problem.what());
  }

  const std::vector<sg4::Host*> hosts = build_star_platform(2, 1, GIGABIT_BYTES_PER_S);
  observe_migrations();
  // The migration's rate is the link's: the link's share (97 % of it) is what holds.
  const MigrationSettings vm_settings{512 * MiB, GIGABIT_BYTES_PER_S, 64 * MiB, 20 * MiB, MIGRATION_TIMEOUT_S};
  sg4::VirtualMachine* vm = start_vm(vm_settings, hosts[0], "vm01", DIRTY_FOR_S);

  Tally tally;
  sg4::Actor::create("sequential", hosts[0], [vm, &hosts, count, &tally] {
    sg4::this_actor::sleep_for(DIRTIER_LEAD_S);
    for (int index = 0; index < count; index++)
      tally.add(migrate_vm(vm, hosts[(index + 1) % 2], MIGRATION_TIMEOUT_S));
    vm->destroy();
  });
  return run_and_print(engine, "sequential", tally);
}

int concurrent_mode(sg4::Engine& engine, const std::vector<std::string>& arguments)
{
  if (arguments.size() != 1)
    return usage("concurrent: expected one argument, the number of migrations");
  int count;
  try {
    count = positive_count(arguments[0], "concurrent: the number of migrations");
  } catch (const std::invalid_argument& problem) {
    return usage(problem.what());
  }

  const std::vector<sg4::Host*> hosts = build_star_platform(2, 1, 10 * GIGABIT_BYTES_PER_S);
  observe_migrations();
  // Idle: nothing dirtied, so no computation; each migration's rate is the link's, its share of it what holds.
  const MigrationSettings vm_settings{256 * MiB, 10 * GIGABIT_BYTES_PER_S, 0, 0, MIGRATION_TIMEOUT_S};
  std::vector<sg4::VirtualMachine*> vms;
  for (int index = 0; index < count; index++) {
    char name[16];
    std::snprintf(name, sizeof name, "vm%04d", index + 1);
    vms.push_back(start_vm(vm_settings, hosts[0], name, 0));
  }

  Tally tally;
  for (sg4::VirtualMachine* vm : vms) {
    sg4::Actor::create(vm->get_name() + "-driver", hosts[0], [vm, &hosts, &tally] {
      tally.add(migrate_vm(vm, hosts[1], MIGRATION_TIMEOUT_S));
      vm->destroy();
    });
  }
  return run_and_print(engine, "concurrent", tally);
}

int datacenter_mode(sg4::Engine& engine, const std::vector<std::string>& arguments)
{
  // bench/datacenter.ts's constants, given by bench/speed.ts so that the two cannot drift apart.
  int host_count = 100, vms_per_host = 20, migrations = 200, timeline_s = 3600, cores = 24;
  if (not arguments.empty()) {
    if (arguments.size() != 5)
      return usage("datacenter: expected no arguments or five: HOSTS VMS_PER_HOST MIGRATIONS TIMELINE_S HOST_CORES");
    try {
      host_count   = positive_count(arguments[0], "datacenter: HOSTS");
      vms_per_host = positive_count(arguments[1], "datacenter: VMS_PER_HOST");
      migrations   = positive_count(arguments[2], "datacenter: MIGRATIONS");
      timeline_s   = positive_count(arguments[3], "datacenter: TIMELINE_S");
      cores        = positive_count(arguments[4], "datacenter: HOST_CORES");
    } catch (const std::invalid_argument& problem) {
      return usage(problem.what());
    }
    if (host_count % 2 != 0 || migrations > host_count * vms_per_host)
      return usage("datacenter: HOSTS must be even and MIGRATIONS at most HOSTS x VMS_PER_HOST");
  }

  const std::vector<sg4::Host*> hosts = build_star_platform(host_count, cores, GIGABIT_BYTES_PER_S);
  observe_migrations();
  // The sim's default guest OS: 0.5 MiB/s over its 16 MiB of hot pages.
  const MigrationSettings migrating{512 * MiB, GIGABIT_BYTES_PER_S, 16 * MiB, 0.5 * MiB, MIGRATION_TIMEOUT_S};
  // Every VM is created and started, but only those that migrate compute (and so dirty): the
  // others' dirtying would change no migration, and a computation on each of the 1,800 makes
  // SimGrid's loop 4 to 5 times slower (README.md, "The speed modes").
  MigrationSettings staying = migrating;
  staying.dirty_bytes_per_s = 0;
  std::vector<sg4::VirtualMachine*> vms;
  for (int h = 0; h < host_count; h++) {
    for (int k = 0; k < vms_per_host; k++) {
      // The VM of host h's k-th place migrates as migration k x HOSTS + h (below), if there is one.
      const bool migrates = k * host_count + h < migrations;
      char name[16];
      std::snprintf(name, sizeof name, "vm%04d", h * vms_per_host + k + 1);
      vms.push_back(start_vm(migrates ? migrating : staying, hosts[h], name, DIRTY_FOR_S));
    }
  }

  Tally tally;
  sg4::Actor::create("datacenter", hosts[0], [&vms, &hosts, &tally, host_count, vms_per_host, migrations, timeline_s] {
    const double gap = static_cast<double>(timeline_s) / migrations;
    std::vector<sg4::ActorPtr> running;
    for (int index = 0; index < migrations; index++) {
      sg4::this_actor::sleep_until(gap / 2 + gap * index);
      const int source = index % host_count;
      const int round  = index / host_count;
      sg4::VirtualMachine* vm  = vms[source * vms_per_host + round];
      sg4::Host* target        = hosts[(source + host_count / 2) % host_count];
      running.push_back(sg4::Actor::create(vm->get_name() + "-driver", vm->get_pm(),
                                           [vm, target, &tally] { tally.add(migrate_vm(vm, target, MIGRATION_TIMEOUT_S)); }));
    }
    sg4::this_actor::sleep_until(timeline_s);
    for (const auto& actor : running)
      actor->join();
    for (sg4::VirtualMachine* vm : vms)
      vm->destroy();
  });
  return run_and_print(engine, "datacenter", tally);
}
