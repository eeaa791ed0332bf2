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

/** How long the VM computes before its migration starts, so that the dirty-page tracking finds its computation running. */
constexpr double DIRTIER_LEAD_S = 0.1;

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

MigrationOutcome run_migration(const MigrationSettings& settings, sg4::Host* source, sg4::Host* destination,
                               const std::string& vm_name)
{
  sg4::VirtualMachine* vm = source->create_vm(vm_name, 1, static_cast<size_t>(settings.ram_bytes));
  sg_vm_set_migration_speed(vm, settings.bandwidth_bytes_per_s);
  // The plugin dirties (migration speed x intensity / host speed) bytes per flop the VM computes:
  // with the VM's one core busy at the host's speed, the VM dirties migration speed x intensity a second.
  sg_vm_set_dirty_page_intensity(vm, settings.dirty_bytes_per_s / settings.bandwidth_bytes_per_s);
  sg_vm_set_working_set_memory(vm, static_cast<sg_size_t>(settings.working_set_bytes));
  vm->start();
  if (settings.dirty_bytes_per_s > 0) {
    // Longer than the migration can last, suspended as it is for the downtime.
    const double flops = HOST_FLOPS * 2 * (settings.timeout_s + 1);
    sg4::Actor::create(vm_name + "-dirtier", vm, [flops] { sg4::this_actor::execute(flops); });
  }
  sg4::this_actor::sleep_for(DIRTIER_LEAD_S);

  MigrationProbe& probe  = probes[vm_name];
  probe.rate             = settings.bandwidth_bytes_per_s;
  sg4::ActorPtr migrator = sg4::Actor::create(vm_name + "-migrator", source, [vm, destination, &probe] {
    probe.started_at = sg4::Engine::get_clock();
    sg_vm_migrate(vm, destination);
    probe.finished_at = sg4::Engine::get_clock();
  });
  migrator->join(settings.timeout_s);

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
  // Kills the plugin's actors of a migration still under way (its VM shutdown callback), and the dirtier.
  vm->destroy();
  probes.erase(vm_name);
  return outcome;
}
