/*
 * The accuracy mode: migration cases from a CSV file, each migrated alone on the same two
 * hosts, one after the other, and its outcome printed as a CSV row.
 *
 * In:  id,ram_bytes,max_bandwidth_bytes_per_s,working_set_bytes,dirty_bytes_per_s,downtime_limit_s,timeout_s
 * Out: id,converged,total_s,bytes,downtime_s,passes,max_downtime_s
 * A header line (starting `id,`), blank lines and lines starting with # are skipped.
 */
#include "migration.hpp"
#include "modes.hpp"
#include "platform.hpp"

#include <simgrid/s4u/Actor.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace sg4 = simgrid::s4u;

namespace {

struct AccuracyCase {
  std::string id;
  MigrationSettings settings;
  /** Read and checked, not used: the plugin's is fixed (PLUGIN_MAX_DOWNTIME_S, printed beside each outcome). */
  double downtime_limit_s;
};

/** How much faster than the fastest migration the link is, so that no transfer is held back by it. */
constexpr double LINK_HEADROOM = 1000;

double number_cell(const std::string& cell, const char* column, bool positive)
{
  size_t used = 0;
  double value;
  try {
    value = std::stod(cell, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != cell.size() || not std::isfinite(value) || value < 0 || (positive && value == 0))
    throw std::invalid_argument(std::string(column) + " must be a " + (positive ? "positive" : "non-negative") +
                                " number, not '" + cell + "'");
  return value;
}

AccuracyCase case_of(const std::string& line)
{
  std::vector<std::string> cells;
  std::stringstream stream(line);
  for (std::string cell; std::getline(stream, cell, ',');)
    cells.push_back(cell);
  if (cells.size() != 7)
    throw std::invalid_argument("expected 7 cells (id,ram_bytes,max_bandwidth_bytes_per_s,working_set_bytes,"
                                "dirty_bytes_per_s,downtime_limit_s,timeout_s), not " + std::to_string(cells.size()));
  if (cells[0].empty())
    throw std::invalid_argument("the id must not be empty");
  return {cells[0],
          {number_cell(cells[1], "ram_bytes", true), number_cell(cells[2], "max_bandwidth_bytes_per_s", true),
           number_cell(cells[3], "working_set_bytes", false), number_cell(cells[4], "dirty_bytes_per_s", false),
           number_cell(cells[6], "timeout_s", true)},
          number_cell(cells[5], "downtime_limit_s", true)};
}

std::vector<AccuracyCase> read_cases(std::istream& input, const std::string& source)
{
  std::vector<AccuracyCase> cases;
  int line_number = 0;
  for (std::string line; std::getline(input, line);) {
    line_number++;
    if (not line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || line[0] == '#' || line.rfind("id,", 0) == 0)
      continue;
    try {
      cases.push_back(case_of(line));
    } catch (const std::invalid_argument& problem) {
      throw std::invalid_argument(source + ":" + std::to_string(line_number) + ": " + problem.what());
    }
  }
  return cases;
}

void print_outcome(const AccuracyCase& migration_case, const MigrationOutcome& outcome)
{
  char downtime[32] = "";
  if (outcome.downtime_s)
    std::snprintf(downtime, sizeof downtime, "%.9g", *outcome.downtime_s);
  std::printf("%s,%s,%.9g,%.0f,%s,%d,%g\n", migration_case.id.c_str(), outcome.converged ? "yes" : "no", outcome.total_s,
              outcome.bytes, downtime, outcome.passes, PLUGIN_MAX_DOWNTIME_S);
}

} // namespace

int accuracy_mode(sg4::Engine& engine, const std::vector<std::string>& arguments)
{
  if (arguments.size() > 1) {
    std::fprintf(stderr, "accuracy: expected at most one argument, the cases' CSV file (- or none for stdin)\n");
    return 2;
  }
  std::vector<AccuracyCase> cases;
  try {
    if (arguments.empty() || arguments[0] == "-") {
      cases = read_cases(std::cin, "stdin");
    } else {
      std::ifstream file(arguments[0]);
      if (not file)
        throw std::invalid_argument(arguments[0] + ": cannot be read");
      cases = read_cases(file, arguments[0]);
    }
  } catch (const std::invalid_argument& problem) {
    std::fprintf(stderr, "accuracy: %s\n", problem.what());
    return 2;
  }

  double fastest = 1;
  for (const auto& migration_case : cases)
    fastest = std::max(fastest, migration_case.settings.bandwidth_bytes_per_s);
  const HostPair hosts = build_two_host_platform(fastest * LINK_HEADROOM);
  observe_migrations();

  std::printf("id,converged,total_s,bytes,downtime_s,passes,max_downtime_s\n");
  sg4::Actor::create("cases", hosts.source, [&cases, hosts] {
    for (size_t index = 0; index < cases.size(); index++) {
      const MigrationOutcome outcome =
          run_migration(cases[index].settings, hosts.source, hosts.destination, "vm" + std::to_string(index));
      print_outcome(cases[index], outcome);
    }
  });
  engine.run();
  return 0;
}
