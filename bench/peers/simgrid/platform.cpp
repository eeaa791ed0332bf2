#include "platform.hpp"

#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include <cstdio>
#include <string>

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

std::vector<sg4::Host*> build_star_platform(int count, int cores, double link_bytes_per_s)
{
  auto* zone = sg4::create_star_zone("datacenter");
  std::vector<sg4::Host*> hosts;
  for (int index = 0; index < count; index++) {
    char name[16];
    std::snprintf(name, sizeof name, "host%03d", index + 1);
    sg4::Host* host      = zone->create_host(name, HOST_FLOPS)->set_core_count(cores)->seal();
    const sg4::Link* up   = zone->create_link(std::string(name) + "-up", link_bytes_per_s)->set_latency(0)->seal();
    const sg4::Link* down = zone->create_link(std::string(name) + "-down", link_bytes_per_s)->set_latency(0)->seal();
    zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute(up)}, false);
    zone->add_route(nullptr, host->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(down)}, false);
    hosts.push_back(host);
  }
  zone->seal();
  return hosts;
}
