#include "migration.hpp"
#include "platform.hpp"

#include <simgrid/plugins/live_migration.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Mailbox.hpp>
#include <simgrid/s4u/VirtualMachine.hpp>

#include <algorithm>
#include <map>

namespace sg4 = simgrid::s4u;

namespace {

/** The plugin sends memory on this mailbox, `<prefix><vm>(<source>-<destination>)` (VmLiveMigration.hpp). */
const std::string MEMORY_MAILBOX_PREFIX = "__mbox_mig_src_dst:";

struct MigrationProbe {
  double rate          = 0;
  double started_at    = 0;
  int passes           = 0;
  double sent_bytes    = 0;
  double sending_bytes = 0;
  double sending_since = 0;
  std::optional<double> suspended_at;
  std::optional<double> resumed_at;
  std::optional<double> finished_at;

  /** The plugin sends one transfer at a time, each whole unless given up: a new one means the last one ended. */
  void transfer_started(double bytes)
  {
    sent_bytes += sending_bytes;
    sending_bytes = bytes;
    sending_since = sg4::Engine::get_clock();
    passes++;
  }

  /** Bytes sent by now: the transfer under way has sent its rate times its time (the link has no latency). */
  double bytes_sent_by(double now) const
  {
    return sent_bytes + std::min(sending_bytes, (now - sending_since) * rate);
  }
};

/** The migrations under way, by VM name. */
std::map<std::string, MigrationProbe, std::less<>> probes;

MigrationProbe* probe_of(const std::string& vm_name)
{
  auto found = probes.find(vm_name);
  return found == probes.end() ? nullptr : &found->second;
}

void on_send(const sg4::Comm& comm)
{
  const std::string& mailbox = comm.get_mailbox()->get_name();
  if (mailbox.rfind(MEMORY_MAILBOX_PREFIX, 0) != 0)
    return;
  const auto name_end = mailbox.find('(', MEMORY_MAILBOX_PREFIX.size());
  if (MigrationProbe* probe = probe_of(mailbox.substr(MEMORY_MAILBOX_PREFIX.size(), name_end - MEMORY_MAILBOX_PREFIX.size())))
    // Not started yet: what remains is the transfer's whole size.
    probe->transfer_started(comm.get_remaining());
}

} // namespace

void observe_migrations()
{
  sg_vm_live_migration_plugin_init();
  sg4::Comm::on_send_cb(on_send);
  sg4::VirtualMachine::on_suspend_cb([](const sg4::VirtualMachine& vm) {
    if (MigrationProbe* probe = probe_of(vm.get_name()))
      probe->suspended_at = sg4::Engine::get_clock();
  });
  sg4::VirtualMachine::on_resume_cb([](const sg4::VirtualMachine& vm) {
    if (MigrationProbe* probe = probe_of(vm.get_name()))
      probe->resumed_at = sg4::Engine::get_clock();
  });
}

sg4::VirtualMachine* start_vm(const MigrationSettings& settings, sg4::Host* host, const std::string& vm_name,
                              double dirty_for_s)
{
  sg4::VirtualMachine* vm = host->create_vm(vm_name, 1, static_cast<size_t>(settings.ram_bytes));
  sg_vm_set_migration_speed(vm, settings.bandwidth_bytes_per_s);
  // The plugin dirties (migration speed x intensity / host speed) bytes per flop the VM computes:
  // with the VM's one core busy at the host's speed, the VM dirties migration speed x intensity a second.
  sg_vm_set_dirty_page_intensity(vm, settings.dirty_bytes_per_s / settings.bandwidth_bytes_per_s);
  sg_vm_set_working_set_memory(vm, static_cast<sg_size_t>(settings.working_set_bytes));
  vm->start();
  if (settings.dirty_bytes_per_s > 0) {
    const double flops = HOST_FLOPS * dirty_for_s;
    sg4::Actor::create(vm_name + "-dirtier", vm, [flops] { sg4::this_actor::execute(flops); });
  }
  return vm;
}

MigrationOutcome migrate_vm(sg4::VirtualMachine* vm, sg4::Host* destination, double timeout_s)
{
  const std::string& vm_name = vm->get_name();
  MigrationProbe& probe      = probes[vm_name];
  probe                      = MigrationProbe{};
  probe.rate                 = sg_vm_get_migration_speed(vm);
  sg4::ActorPtr migrator     = sg4::Actor::create(vm_name + "-migrator", vm->get_pm(), [vm, destination, &probe] {
    probe.started_at = sg4::Engine::get_clock();
    sg_vm_migrate(vm, destination);
    probe.finished_at = sg4::Engine::get_clock();
  });
  migrator->join(timeout_s);

  MigrationOutcome outcome{};
  outcome.converged = probe.suspended_at.has_value();
  if (outcome.converged) {
    migrator->join();
    outcome.total_s    = *probe.finished_at - probe.started_at;
    outcome.bytes      = probe.sent_bytes + probe.sending_bytes;
    outcome.downtime_s = *probe.resumed_at - *probe.suspended_at;
  } else {
    const double now = sg4::Engine::get_clock();
    outcome.total_s  = now - probe.started_at;
    outcome.bytes    = probe.bytes_sent_by(now);
  }
  outcome.passes = probe.passes;
  probes.erase(vm_name);
  return outcome;
}

MigrationOutcome run_migration(const MigrationSettings& settings, sg4::Host* source, sg4::Host* destination,
                               const std::string& vm_name)
{
  // The computation lasts longer than the migration can, suspended as it is for the downtime.
  sg4::VirtualMachine* vm = start_vm(settings, source, vm_name, 2 * (settings.timeout_s + 1));
  sg4::this_actor::sleep_for(DIRTIER_LEAD_S);
  const MigrationOutcome outcome = migrate_vm(vm, destination, settings.timeout_s);
  // Kills the plugin's actors of a migration still under way (its VM shutdown callback), and the dirtier.
  vm->destroy();
  return outcome;
}
