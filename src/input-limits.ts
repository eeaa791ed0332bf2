/**
 * The most a script or config may ask for. Each is far above real use (the seed's experiments
 * last hours with tens of clients; the bench plans 1,000 hosts, 20,000 VMs and 40,000
 * clients) and low enough that reading, checking and simulating the largest input allowed
 * takes seconds and hundreds of MB rather than hours and GBs. Documented in the README.
 */

/** A script of 4 MiB parses in about half a second; the planned bench's script is about 200 KB. */
export const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

/**
 * The YAML parser costs about 3 µs and 500 bytes of memory per byte of input in the worst
 * case, so 1 MiB parses in seconds; a config is a few dozen lines, or a sim inventory of
 * about 40,000 VMs at most.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** A CA certificate or a credentials file: a few KB; a CA bundle a few hundred. */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** Hosts of the placement line, or of the sim config's inventory. */
export const MAX_HOSTS = 5_000;

/** VMs of the placement line, or of the sim config's inventory. */
export const MAX_VMS = 100_000;

/** Clients running at once, of all types together. */
export const MAX_CLIENTS = 100_000;

/** When the script's last action fires, in seconds after the first: 7 days. */
export const MAX_EXPERIMENT_SECONDS = 7 * 24 * 60 * 60;

/** `4 MiB`, `1 KiB`, `12 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
