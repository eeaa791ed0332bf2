/*
 * The second harness's guest: the initramfs's /init (PID 1), nothing else in the guest.
 *
 *   init ws_mb=W rate_mb_s=R
 *
 * (the kernel passes the words after `--` on its command line to init; without them, the same
 * words are looked for in /proc/cmdline). Only as PID 1 does it mount anything (proc, and
 * devtmpfs for a console if it has none), so it can be tried on a host as it is. Sizes are MiB (2^20 bytes), as the project's
 * buffer_mb and dirty_mb_s are.
 *
 * W = 0: idle, the guest holds nothing. Otherwise it maps W MiB, fills every byte of it with a
 * non-zero value, prints `writer: filled W MB` on the console, then (R > 0) rewrites R MiB/s of
 * it in page order, cycling, one 8-byte store per 4 KiB page, in 10 ms ticks: each tick catches
 * up to elapsed seconds × R MiB's pages since the start, so a late tick does not lower the rate.
 * Each round over the set stores a new value, with every byte non-zero. R = 0: the filled set
 * is held. PID 1 never returns (the kernel would panic).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)
#define PAGE ((size_t)4096)
#define MAX_WS_MB 65536L
#define MAX_RATE_MB_S 100000L
#define TICK_NS 10000000L
#define FILL_BYTE 0xA5

__attribute__((format(printf, 1, 2))) static void say(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vprintf(format, args);
  va_end(args);
  fflush(stdout);
}

static void hold_forever(void) {
  for (;;) pause();
}

/* A console for stdout when the kernel could not give init one. */
static void ensure_console(void) {
  if (getpid() != 1 || fcntl(STDOUT_FILENO, F_GETFD) != -1) return;
  mkdir("/dev", 0755);
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
  if (fd < 0) return;
  dup2(fd, STDOUT_FILENO);
  dup2(fd, STDERR_FILENO);
  if (fd > STDERR_FILENO) close(fd);
}

/* The value of `name=` among the words of `text` (space separated), or -1 when absent or bad. */
static long parameter_in(const char *text, const char *name, long max) {
  size_t length = strlen(name);
  for (const char *word = text; word && *word;) {
    while (*word == ' ' || *word == '\n') word++;
    if (strncmp(word, name, length) == 0 && word[length] == '=') {
      char *end;
      errno = 0;
      long value = strtol(word + length + 1, &end, 10);
      if (errno || end == word + length + 1 || (*end && *end != ' ' && *end != '\n') || value < 0 || value > max) return -1;
      return value;
    }
    word = strchr(word, ' ');
  }
  return -1;
}

static long parameter(int argc, char **argv, const char *cmdline, const char *name, long max) {
  for (int i = 1; i < argc; i++) {
    long value = parameter_in(argv[i], name, max);
    if (value >= 0) return value;
  }
  return parameter_in(cmdline, name, max);
}

static void read_cmdline(char *buffer, size_t size) {
  buffer[0] = '\0';
  if (getpid() != 1) return;
  mkdir("/proc", 0555);
  mount("proc", "/proc", "proc", 0, NULL);
  int fd = open("/proc/cmdline", O_RDONLY);
  if (fd < 0) return;
  ssize_t n = read(fd, buffer, size - 1);
  buffer[n > 0 ? n : 0] = '\0';
  close(fd);
}

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Round r's value: one byte repeated, never 0 and never the fill byte, different from round r - 1's. */
static uint64_t round_value(uint64_t round) {
  uint64_t byte = 1 + round % 254;
  if (byte >= FILL_BYTE) byte++;
  return byte * 0x0101010101010101ULL;
}

static void sweep_forever(volatile uint64_t *set, size_t pages, long rate_mb_s) {
  const double pages_per_second = (double)rate_mb_s * (double)(MIB / PAGE);
  const size_t words_per_page = PAGE / sizeof(uint64_t);
  struct timespec start, next;
  clock_gettime(CLOCK_MONOTONIC, &start);
  next = start;
  uint64_t written = 0;
  for (;;) {
    uint64_t due = (uint64_t)(seconds_since(&start) * pages_per_second);
    for (; written < due; written++) {
      size_t page = (size_t)(written % pages);
      set[page * words_per_page] = round_value(written / pages);
    }
    next.tv_nsec += TICK_NS;
    if (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
    }
  }
}

int main(int argc, char **argv) {
  static char cmdline[4096];
  ensure_console();
  read_cmdline(cmdline, sizeof cmdline);
  long ws_mb = parameter(argc, argv, cmdline, "ws_mb", MAX_WS_MB);
  long rate_mb_s = parameter(argc, argv, cmdline, "rate_mb_s", MAX_RATE_MB_S);
  if (ws_mb < 0 || rate_mb_s < 0) {
    say("writer: bad parameters: expected ws_mb=0..%ld rate_mb_s=0..%ld\n", MAX_WS_MB, MAX_RATE_MB_S);
    hold_forever();
  }
  say("writer: ws_mb=%ld rate_mb_s=%ld\n", ws_mb, rate_mb_s);
  if (ws_mb == 0) {
    say("writer: idle\n");
    hold_forever();
  }
  size_t bytes = (size_t)ws_mb * MIB;
  void *set = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (set == MAP_FAILED) {
    say("writer: cannot map %ld MB (errno %d)\n", ws_mb, errno);
    hold_forever();
  }
  memset(set, FILL_BYTE, bytes);
  say("writer: filled %ld MB\n", ws_mb);
  if (rate_mb_s == 0) hold_forever();
  sweep_forever(set, bytes / PAGE, rate_mb_s);
  return 0;
}
