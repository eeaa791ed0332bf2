#include "platform.hpp"

#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

namespace sg4 = simgrid::s4u;

HostPair build_two_host_platform(double link_bytes_per_s)
{
  auto* zone        = sg4::create_full_zone("migration");
  sg4::Host* source = zone->create_host("source", HOST_FLOPS)->seal();
  sg4::Host* target = zone->create_host("destination", HOST_FLOPS)->seal();
  // No latency: a transfer's bytes are then exactly its duration times its rate.
  const sg4::Link* wire = zone->create_link("wire", link_bytes_per_s)->set_latency(0)->seal();
  zone->add_route(source->get_netpoint(), target->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(wire)}, true);
  zone->seal();
  return {source, target};
}
