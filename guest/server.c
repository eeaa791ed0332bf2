/*
 * vmm-server: the workload server that runs inside each lab VM (see src/platforms/qemu/).
 *
 * A small HTTP/1.1 server with keep-alive, one thread per connection and one job per
 * request: the seed's three server applications plus a ping and two page dirtiers.
 *
 *   GET /cpu?digits=N             compute pi to N digits (spigot algorithm)
 *   GET /memory?mb=M&ms=T         allocate M MB, fill it with a constant, sleep T ms (or until the
 *                                 client closes the connection), free it
 *   GET /memory2?mb=M&ms=T        allocate M MB, keep refilling it for T ms, free it
 *   GET /dirty?mb=M&rate=R&ms=T   allocate M MB, dirty R MB/s of its pages for T ms (or until the
 *                                 client closes the connection), free it
 *   GET /rewrite?mb=M&rate=R&ms=T&order=O
 *                                 allocate M MB, fill it, rewrite R MB/s of its pages for T ms (or
 *                                 until the client closes the connection), free it: pages chosen at
 *                                 random (O=0, the default) or in page order, cycling (O=1)
 *   GET /ping                     answer at once
 *
 * Every job checks what it wrote, so that memory a live migration brought back wrong is seen:
 * `memory` reads its fill back before answering, `memory2`, `dirty` and `rewrite` check each
 * chunk or page still holds what they last wrote there before rewriting it (for `rewrite`, the
 * page's last version, kept per page) and all of it at the end, `cpu` compares its digits with
 * pi's. `dirty` writes into zeroed data, `rewrite` into data it filled with non-zero words, so
 * that every page is data to a migration. A quarter of each memory job's megabytes, and a copy
 * of cpu's digits, live in a file in the data directory (the guest's /tmp, a tmpfs), written
 * with pwrite() and read back with pread(): the guest kernel's page cache holds them, where
 * migrations were seen to corrupt data that a process's own pages kept.
 *
 * Every response carries `x-server: NAME` (the VM's name) and `x-processing-ms: N` (from the
 * whole request being read to the answer being written, in milliseconds); a job's answer also
 * carries `x-corrupt-words: N`, the 64-bit words (for cpu, 4-digit groups) its checks found
 * wrong. Parameters are bounded; a bad, unknown or out-of-range one gets 400. Memory jobs share
 * a budget so that the guest never runs out of memory: a request that would exceed it gets 503.
 *
 * The name comes from --name, else `vmm.name=` on the kernel command line, else "unknown".
 * Usage: vmm-server [--name NAME] [--bind ADDR] [--port N] [--max-mb N] [--data-dir DIR]
 * With --port 0 the kernel picks the port; the first line on stdout always says
 * "vmm-server: NAME listening on ADDR:PORT".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_MAX 8192           /* request line and headers */
#define BODY_MAX (1 << 20)         /* a request body is read and discarded up to this */
#define MAX_CONNECTIONS 512
#define IDLE_TIMEOUT_S 600
#define MAX_DIGITS 50000
#define MAX_MB 4096
#define MAX_MS 3600000             /* one hour */
#define MAX_RATE_MBPS 100000
#define PAGE 4096
#define MB ((size_t)1 << 20)
#define WORD sizeof(uint64_t)      /* what the checks compare */
#define FILE_SHARE 4               /* one in FILE_SHARE of a memory job's bytes is in its file */
#define STAGING_BYTES (64 << 10)   /* the most one pread() or pwrite() of a job's file moves */
#define MEMORY_FILL 0x5a
#define REWRITE_FILL 0x3c          /* what `rewrite` fills its pages with after their first word */
#define REWRITE_SEED 0x766d6d2d72657772ULL /* "vmm-rewr": the same random pages on every run */

static char server_name[64] = "unknown";
static const char *data_dir = "/tmp";
static long memory_budget_mb;
static long memory_reserved_mb;
static int connections;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms) {
  double until = now_ms() + ms;
  for (;;) {
    double left = until - now_ms();
    if (left <= 0) return;
    struct timespec ts = {(time_t)(left / 1e3), (long)((left - (double)(time_t)(left / 1e3) * 1e3) * 1e6)};
    nanosleep(&ts, NULL);
  }
}

/* ---- the memory budget ---------------------------------------------------------------- */

static int reserve_mb(long mb) {
  int ok;
  pthread_mutex_lock(&lock);
  ok = memory_reserved_mb + mb <= memory_budget_mb;
  if (ok) memory_reserved_mb += mb;
  pthread_mutex_unlock(&lock);
  return ok;
}

static void release_mb(long mb) {
  pthread_mutex_lock(&lock);
  memory_reserved_mb -= mb;
  pthread_mutex_unlock(&lock);
}

/* ---- replies ------------------------------------------------------------------------------ */

struct reply {
  int status;
  /* The words the job's checks found wrong; -1 when nothing was checked (an error, a ping). */
  long corrupt_words;
  char body[256];
};

static void set_reply(struct reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_reply(struct reply *r, int status, const char *fmt, ...) {
  va_list ap;
  r->status = status;
  r->corrupt_words = -1;
  va_start(ap, fmt);
  vsnprintf(r->body, sizeof r->body, fmt, ap);
  va_end(ap);
}

/* What a job's checks found, for its answer; a find is also said on the console. */
static void set_checked(struct reply *r, const char *job, long bad) {
  r->corrupt_words = bad;
  if (bad > 0) fprintf(stderr, "vmm-server: %s: %ld corrupt words\n", job, bad);
}

/* ---- a job's file: data that goes through the kernel's page cache -------------------------- */

/* An unlinked file of `bytes` in data_dir, gone with its descriptor; -1 with errno on failure. */
static int open_job_file(size_t bytes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/vmm-job-XXXXXX", data_dir);
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  unlink(path);
  if (ftruncate(fd, (off_t)bytes) < 0) {
    int error = errno;
    close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

/* pwrite() or pread() of all `len` bytes; the first failure goes to `*error` (a file read short is EIO). */
static void file_io(int fd, int writing, void *data, size_t len, size_t offset, int *error) {
  unsigned char *p = data;
  while (len > 0 && !*error) {
    ssize_t n = writing ? pwrite(fd, p, len, (off_t)offset) : pread(fd, p, len, (off_t)offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = n < 0 ? errno : EIO;
      return;
    }
    p += n;
    len -= (size_t)n;
    offset += (size_t)n;
  }
}

/* A job whose file failed answers 503 saying why; true then. */
static int file_failed(int error, struct reply *r) {
  if (!error) return 0;
  set_reply(r, 503, "the job's file in %.100s: %s\n", data_dir, strerror(error));
  return 1;
}

/* The 64-bit words of `len` bytes at `p` that are not `expected`. */
static long words_unlike(const unsigned char *p, size_t len, uint64_t expected) {
  /* The memory may have changed behind the compiler's back: that is what is checked for. */
  __asm__ volatile("" ::: "memory");
  const uint64_t *words = (const uint64_t *)(const void *)p;
  long bad = 0;
  for (size_t i = 0; i < len / WORD; i++) bad += words[i] != expected;
  return bad;
}

/* ---- a memory job's data: anonymous memory and its file ------------------------------------ */

/*
 * A memory job's `bytes`: the first `mem_bytes` in anonymous memory straight from the kernel
 * (so that freeing it really returns it), the rest in the job's file.
 */
struct store {
  long mb;
  size_t bytes, mem_bytes;
  unsigned char *mem;
  int fd;
  unsigned char *staging; /* STAGING_BYTES for the file's reads and writes */
  int error;              /* the file's first failure */
};

/* The parts of [offset, offset + len) in memory and in the file (from the file's start). */
struct span {
  size_t mem_offset, mem_len, file_offset, file_len;
};

static struct span split(const struct store *s, size_t offset, size_t len) {
  struct span span = {0, 0, 0, 0};
  size_t end = offset + len;
  if (offset < s->mem_bytes) {
    span.mem_offset = offset;
    span.mem_len = (end < s->mem_bytes ? end : s->mem_bytes) - offset;
  }
  if (end > s->mem_bytes) {
    span.file_offset = (offset > s->mem_bytes ? offset : s->mem_bytes) - s->mem_bytes;
    span.file_len = end - s->mem_bytes - span.file_offset;
  }
  return span;
}

/* A job's `mb` within the memory budget; 0 with a 503 reply set when it cannot have them. */
static int acquire_store(struct store *s, long mb, struct reply *r) {
  s->mb = mb;
  s->bytes = (size_t)mb * MB;
  s->mem_bytes = s->bytes - s->bytes / FILE_SHARE;
  s->error = 0;
  if (!reserve_mb(mb)) {
    set_reply(r, 503, "memory budget exceeded (%ld MB)\n", memory_budget_mb);
    return 0;
  }
  s->fd = open_job_file(s->bytes - s->mem_bytes);
  if (s->fd < 0) {
    set_reply(r, 503, "cannot make the job's file in %.100s: %s\n", data_dir, strerror(errno));
    release_mb(mb);
    return 0;
  }
  void *mem = mmap(NULL, s->mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  s->staging = malloc(STAGING_BYTES);
  if (mem == MAP_FAILED || !s->staging) {
    if (mem != MAP_FAILED) munmap(mem, s->mem_bytes);
    free(s->staging);
    close(s->fd);
    release_mb(mb);
    set_reply(r, 503, "out of memory\n");
    return 0;
  }
  s->mem = mem;
  return 1;
}

/* Frees the job's data; returns its file's first failure (0 when none). */
static int release_store(struct store *s) {
  munmap(s->mem, s->mem_bytes);
  close(s->fd);
  free(s->staging);
  release_mb(s->mb);
  return s->error;
}

/* Writes `value` over [offset, offset + len). */
static void store_fill(struct store *s, size_t offset, size_t len, unsigned char value) {
  struct span span = split(s, offset, len);
  memset(s->mem + span.mem_offset, value, span.mem_len);
  if (span.file_len > 0) memset(s->staging, value, STAGING_BYTES);
  for (size_t done = 0; done < span.file_len; done += STAGING_BYTES) {
    size_t n = span.file_len - done < STAGING_BYTES ? span.file_len - done : STAGING_BYTES;
    file_io(s->fd, 1, s->staging, n, span.file_offset + done, &s->error);
  }
}

/* The words of [offset, offset + len) that are not `expected`. */
static long store_words_unlike(struct store *s, size_t offset, size_t len, uint64_t expected) {
  struct span span = split(s, offset, len);
  long bad = words_unlike(s->mem + span.mem_offset, span.mem_len, expected);
  for (size_t done = 0; done < span.file_len; done += STAGING_BYTES) {
    size_t n = span.file_len - done < STAGING_BYTES ? span.file_len - done : STAGING_BYTES;
    file_io(s->fd, 0, s->staging, n, span.file_offset + done, &s->error);
    bad += words_unlike(s->staging, n, expected);
  }
  return bad;
}

static uint64_t store_word(struct store *s, size_t offset) {
  uint64_t word = 0;
  if (offset < s->mem_bytes) {
    __asm__ volatile("" ::: "memory");
    memcpy(&word, s->mem + offset, WORD);
  } else {
    file_io(s->fd, 0, &word, WORD, offset - s->mem_bytes, &s->error);
  }
  return word;
}

static void store_set_word(struct store *s, size_t offset, uint64_t word) {
  if (offset < s->mem_bytes) memcpy(s->mem + offset, &word, WORD);
  else file_io(s->fd, 1, &word, WORD, offset - s->mem_bytes, &s->error);
}

static uint64_t fill_word(unsigned char value) { return value * 0x0101010101010101ULL; }

/* ---- jobs -------------------------------------------------------------------------------- */

#define PI_BLOCK_GROUPS 250 /* 1000 digits, in groups of 4 */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

/* FNV-1a of each 1000 digits of pi ("3141..."), as the spigot below makes them and mpmath agrees. */
static const uint64_t PI_BLOCK_HASH[MAX_DIGITS / 1000] = {
    0x2073918a0a5fa839ULL, 0xc11f09741386f94fULL, 0x81854a2ea640018dULL, 0x4f2f5a92e1aac1f2ULL,
    0xc055268220ecc9a1ULL, 0x44fb10badecdc1f2ULL, 0x6fd6f7f4c6d47d4cULL, 0xb82812c159195c36ULL,
    0xab18073a7be1baafULL, 0x5468c893777d0cb4ULL, 0x7f8d9c01961dcad4ULL, 0xee659b160689c5a8ULL,
    0x2e1efc8ffc499388ULL, 0x802968b806111573ULL, 0xcaefd58a9cb79d54ULL, 0x191e955679c2d8eaULL,
    0x87dc75b82e9c6264ULL, 0x3bb39d6e9ea15388ULL, 0xb40d6ca02f44d905ULL, 0xb650c951b9efd1f0ULL,
    0x818f5e2cecd33c29ULL, 0xf28de4f4c39b1fa8ULL, 0x65814c10b1478c1eULL, 0xd9638e9703e3ae34ULL,
    0x5649ab94f1539831ULL, 0xa9b84ecbd5d3ad7cULL, 0xee1dcd70074b9a67ULL, 0x245e68a294a3a763ULL,
    0xf1babbe03d64390dULL, 0x24a43bd2849a00a8ULL, 0x6ff41bc41c373804ULL, 0x893223a3b20f0037ULL,
    0x29a0c62bc9b50a78ULL, 0xb73167d13965d285ULL, 0xb4bba4a43544079bULL, 0xdc2af1511a28f6c0ULL,
    0xfa2d01e9d49103daULL, 0xbf870999d026ed83ULL, 0x728263d94c50b6cdULL, 0xc2a2667d786e5baeULL,
    0x9caa7d266a957195ULL, 0x1a8d678f1cac6164ULL, 0x6c3930461f2f76a0ULL, 0x3b24142ad70db411ULL,
    0xa7f86848417ee2e4ULL, 0x0c2c6f568ce874ddULL, 0x027e723e95f9472bULL, 0xe6290e5e5e9d5d6cULL,
    0x6a5dfcecf3365f1bULL, 0xb6874e87f81494d7ULL,
};

/* Pi's first 64 digits: what /cpu answers, and the check of a result shorter than 1000 digits. */
static const char PI_FIRST_DIGITS[] = "3141592653589793238462643383279502884197169399375105820974944592";

/* The four digits of a group into `out`; 0 for a value no group of digits can have. */
static int group_digits(unsigned group, char out[4]) {
  if (group > 9999) return 0;
  for (int i = 3; i >= 0; i--, group /= 10) out[i] = (char)('0' + group % 10);
  return 1;
}

/* The groups of `result` known not to be pi's: a whole 1000-digit block by its hash, a shorter result group by group. */
static long groups_unlike_pi(const uint16_t *result, long groups) {
  long bad = 0;
  long blocks = groups / PI_BLOCK_GROUPS;
  for (long block = 0; block < blocks; block++) {
    uint64_t hash = FNV_OFFSET;
    int valid = 1;
    for (long i = block * PI_BLOCK_GROUPS; i < (block + 1) * PI_BLOCK_GROUPS; i++) {
      char digits[4];
      valid &= group_digits(result[i], digits);
      for (int k = 0; k < 4; k++) hash = (hash ^ (unsigned char)digits[k]) * FNV_PRIME;
    }
    if (!valid || hash != PI_BLOCK_HASH[block]) bad += PI_BLOCK_GROUPS;
  }
  for (long i = blocks * PI_BLOCK_GROUPS; i < groups && i < 16; i++) {
    char digits[4];
    bad += !group_digits(result[i], digits) || memcmp(digits, PI_FIRST_DIGITS + 4 * i, 4) != 0;
  }
  return bad;
}

/*
 * Pi to `digits` digits, D. T. Winter's spigot in base 10000; answers with the first 64.
 * Each group of 4 digits also goes to the job's file as it is made; at the end the file must
 * read back the same, and the digits must be pi's.
 */
static void job_cpu(long digits, struct reply *r) {
  long groups = (digits + 3) / 4;
  long c = groups * 14;
  size_t result_bytes = (size_t)groups * sizeof(uint16_t);
  int fd = open_job_file(result_bytes);
  if (fd < 0) {
    set_reply(r, 503, "cannot make the job's file in %.100s: %s\n", data_dir, strerror(errno));
    return;
  }
  uint32_t *f = malloc((size_t)(c + 1) * sizeof *f);
  uint16_t *result = malloc(result_bytes);
  uint16_t *copy = malloc(result_bytes);
  if (!f || !result || !copy) {
    free(f);
    free(result);
    free(copy);
    close(fd);
    set_reply(r, 503, "out of memory\n");
    return;
  }
  int error = 0;
  uint64_t e = 0;
  for (long b = 0; b <= c; b++) f[b] = 2000; /* 10000 / 5 */
  for (long group = 0; c > 0; c -= 14, group++) {
    uint64_t d = 0;
    uint64_t g = (uint64_t)c * 2;
    for (long b = c;;) {
      d += (uint64_t)f[b] * 10000;
      f[b] = (uint32_t)(d % --g);
      d /= g--;
      if (--b == 0) break;
      d *= (uint64_t)b;
    }
    result[group] = (uint16_t)(e + d / 10000);
    e = d % 10000;
    file_io(fd, 1, &result[group], sizeof result[group], (size_t)group * sizeof result[group], &error);
  }
  free(f);
  file_io(fd, 0, copy, result_bytes, 0, &error);
  close(fd);
  long bad = groups_unlike_pi(result, groups);
  for (long i = 0; i < groups; i++) bad += copy[i] != result[i];
  char first[72] = "";
  size_t used = 0;
  for (long i = 0; i < groups && used + 4 <= 64; i++) used += (size_t)snprintf(first + used, sizeof first - used, "%04u", result[i] % 10000u);
  free(result);
  free(copy);
  if (file_failed(error, r)) return;
  set_reply(r, 200, "digits=%ld pi=%s\n", digits, first);
  set_checked(r, "cpu", bad);
}

/* True when the client closed its connection or it broke (a pipelined next request is not that). */
static int client_gone(int fd) {
  char c;
  ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Sleeps `ms`, in 10 ms ticks, or less when the client on `fd` goes away: nobody waits for the answer. */
static void sleep_while_client_waits(int fd, double ms) {
  double until = now_ms() + ms;
  for (double left = ms; left > 0 && !client_gone(fd); left = until - now_ms()) sleep_ms(left < 10 ? left : 10);
}

/* Fills the job's data with a constant, holds it, and reads it back before answering. */
static void job_memory(int fd, long mb, long ms, struct reply *r) {
  struct store s;
  if (!acquire_store(&s, mb, r)) return;
  store_fill(&s, 0, s.bytes, MEMORY_FILL);
  sleep_while_client_waits(fd, (double)ms);
  /* A client that went away gets no answer: nothing to check for. */
  long bad = client_gone(fd) ? -1 : store_words_unlike(&s, 0, s.bytes, fill_word(MEMORY_FILL));
  if (file_failed(release_store(&s), r)) return;
  set_reply(r, 200, "memory mb=%ld ms=%ld\n", mb, ms);
  set_checked(r, "memory", bad);
}

/*
 * Refills the job's data a megabyte chunk at a time with the next value, checking that each
 * chunk still holds the value it was last given (0 before its first fill, as fresh memory and
 * a new file read), and every chunk once more at the end.
 */
static void job_memory2(long mb, long ms, struct reply *r) {
  struct store s;
  if (!acquire_store(&s, mb, r)) return;
  unsigned char *held = calloc((size_t)mb, 1);
  if (!held) {
    release_store(&s);
    set_reply(r, 503, "out of memory\n");
    return;
  }
  double until = now_ms() + (double)ms;
  long fills = 0, chunks = 0, bad = 0;
  unsigned char value = 1;
  do {
    /* One pass over the data, a megabyte at a time, watching the clock between chunks. */
    for (long chunk = 0; chunk < mb; chunk++) {
      size_t offset = (size_t)chunk * MB;
      bad += store_words_unlike(&s, offset, MB, fill_word(held[chunk]));
      store_fill(&s, offset, MB, value);
      held[chunk] = value;
      chunks++;
      if (now_ms() >= until) break;
    }
    fills++;
    value = (unsigned char)(value % 255 + 1);
  } while (now_ms() < until);
  for (long chunk = 0; chunk < mb; chunk++) bad += store_words_unlike(&s, (size_t)chunk * MB, MB, fill_word(held[chunk]));
  free(held);
  if (file_failed(release_store(&s), r)) return;
  set_reply(r, 200, "memory2 mb=%ld ms=%ld fills=%ld written_mb=%ld\n", mb, ms, fills, chunks);
  set_checked(r, "memory2", bad);
}

/* What `dirty` and `rewrite` leave at the start of a page on its version `version` (from 1; 0 before any): a stale or misplaced page shows. */
static uint64_t dirty_word(uint64_t version, size_t page) { return version == 0 ? 0 : version << 32 | page; }

/*
 * Calls `write_page(job)` for `rate` MB/s of pages, in 10 ms ticks, for `ms` or until the
 * client on `fd` goes away: a long job nobody waits for would go on dirtying memory. Returns
 * the pages written, and in `took_ms` how long that took.
 */
static uint64_t write_pages_at_rate(int fd, long rate, long ms, void (*write_page)(void *job), void *job, double *took_ms) {
  double start = now_ms();
  double until = start + (double)ms;
  double pages_per_ms = (double)rate * (double)(MB / PAGE) / 1000.0;
  uint64_t written = 0;
  for (double tick = start; tick < until && !client_gone(fd); tick += 10) {
    double due_until = (tick + 10 < until ? tick + 10 : until) - start;
    uint64_t due = (uint64_t)(due_until * pages_per_ms);
    for (; written < due; written++) write_page(job);
    double left = tick + 10 - now_ms();
    if (left > 0) sleep_ms(left);
  }
  *took_ms = now_ms() - start;
  return written;
}

/* `dirty`'s sweep: the page it writes next, on which pass, and what its checks found. */
struct sweep {
  struct store *s;
  size_t pages, next;
  uint64_t pass;
  long bad;
};

static void sweep_next_page(void *job) {
  struct sweep *w = job;
  size_t offset = w->next * PAGE;
  w->bad += store_word(w->s, offset) != dirty_word(w->pass - 1, w->next);
  store_set_word(w->s, offset, dirty_word(w->pass, w->next));
  if (++w->next == w->pages) {
    w->next = 0;
    w->pass++;
  }
}

/*
 * Dirties `rate` MB/s of distinct pages, cycling through the job's zeroed data, in 10 ms ticks:
 * each page's first word, checked before it is rewritten, and every page whole at the end.
 * Stops early, freeing the data, when the client on `fd` goes away.
 */
static void job_dirty(int fd, long mb, long rate, long ms, struct reply *r) {
  struct store s;
  if (!acquire_store(&s, mb, r)) return;
  struct sweep w = {&s, s.bytes / PAGE, 0, 1, 0};
  store_fill(&s, 0, s.bytes, 0);
  double took;
  uint64_t dirtied = write_pages_at_rate(fd, rate, ms, sweep_next_page, &w, &took);
  long bad = w.bad;
  if (client_gone(fd)) {
    bad = -1; /* nobody to answer */
  } else {
    for (size_t page = 0; page < w.pages; page++) {
      size_t offset = page * PAGE;
      bad += store_word(&s, offset) != dirty_word(page < w.next ? w.pass : w.pass - 1, page);
      bad += store_words_unlike(&s, offset + WORD, PAGE - WORD, 0);
    }
  }
  if (file_failed(release_store(&s), r)) return;
  set_reply(r, 200, "dirty mb=%ld rate=%ld ms=%ld dirtied_mb=%.1f took_ms=%.0f\n", mb, rate, ms,
            (double)dirtied * PAGE / MB, took);
  set_checked(r, "dirty", bad);
}

/* splitmix64 (Steele, Lea and Flood): small, fast, and the same sequence on every run from the same seed. */
static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/*
 * `rewrite`'s writes: each page's version (1 once filled), the generator's state or, in page
 * order, the page it writes next, and what the checks found.
 */
struct rewrite {
  struct store *s;
  size_t pages;
  uint32_t *versions;
  uint64_t random;
  int in_page_order;
  size_t next;
  long bad;
};

static void rewrite_page(void *job) {
  struct rewrite *w = job;
  size_t page = w->in_page_order ? w->next++ % w->pages : (size_t)(splitmix64(&w->random) % w->pages);
  size_t offset = page * PAGE;
  w->bad += store_word(w->s, offset) != dirty_word(w->versions[page], page);
  store_set_word(w->s, offset, dirty_word(++w->versions[page], page));
}

/*
 * Fills the job's data with non-zero words (each page's first word its version 1, the rest
 * REWRITE_FILL), then rewrites `rate` MB/s of pages chosen at random with replacement (or in
 * page order, cycling, when `in_page_order`), in 10 ms ticks: a page's first word, checked to
 * hold its last version before it gets the next, and every page whole at the end. Stops early, freeing the data, when the client on `fd` goes
 * away. Answers how much was rewritten and how much of the data at least once.
 */
static void job_rewrite(int fd, long mb, long rate, long ms, int in_page_order, struct reply *r) {
  struct store s;
  if (!acquire_store(&s, mb, r)) return;
  struct rewrite w = {&s, s.bytes / PAGE, calloc(s.bytes / PAGE, sizeof(uint32_t)), REWRITE_SEED, in_page_order, 0, 0};
  if (!w.versions) {
    release_store(&s);
    set_reply(r, 503, "out of memory\n");
    return;
  }
  double fill_start = now_ms();
  store_fill(&s, 0, s.bytes, REWRITE_FILL);
  for (size_t page = 0; page < w.pages; page++) {
    w.versions[page] = 1;
    store_set_word(&s, page * PAGE, dirty_word(1, page));
  }
  double fill_ms = now_ms() - fill_start;
  double took;
  uint64_t rewritten = write_pages_at_rate(fd, rate, ms, rewrite_page, &w, &took);
  long bad = w.bad;
  size_t distinct = 0;
  if (client_gone(fd)) {
    bad = -1; /* nobody to answer */
  } else {
    for (size_t page = 0; page < w.pages; page++) {
      size_t offset = page * PAGE;
      bad += store_word(&s, offset) != dirty_word(w.versions[page], page);
      bad += store_words_unlike(&s, offset + WORD, PAGE - WORD, fill_word(REWRITE_FILL));
      distinct += w.versions[page] > 1;
    }
  }
  free(w.versions);
  if (file_failed(release_store(&s), r)) return;
  set_reply(r, 200, "rewrite mb=%ld rate=%ld ms=%ld order=%d fill_ms=%.0f rewritten_mb=%.1f distinct_mb=%.1f took_ms=%.0f\n", mb, rate,
            ms, in_page_order, fill_ms, (double)rewritten * PAGE / MB, (double)distinct * PAGE / MB, took);
  set_checked(r, "rewrite", bad);
}

/* ---- request parsing ------------------------------------------------------------------- */

struct param {
  const char *name;
  long min, max, value;
  int seen;
};

/* Parses `a=1&b=2` into `params`; 0 with a reason in `r` on an unknown, repeated or bad one. */
static int parse_query(char *query, struct param *params, int count, struct reply *r) {
  if (!query || !*query) return 1;
  for (char *save = NULL, *pair = strtok_r(query, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(pair, '=');
    if (!eq) {
      set_reply(r, 400, "parameter without a value: %.40s\n", pair);
      return 0;
    }
    *eq = '\0';
    const char *text = eq + 1;
    struct param *p = NULL;
    for (int i = 0; i < count; i++)
      if (strcmp(params[i].name, pair) == 0) p = &params[i];
    if (!p) {
      set_reply(r, 400, "unknown parameter: %.40s\n", pair);
      return 0;
    }
    if (p->seen) {
      set_reply(r, 400, "parameter given twice: %s\n", p->name);
      return 0;
    }
    size_t n = strlen(text);
    if (n == 0 || n > 9 || strspn(text, "0123456789") != n) {
      set_reply(r, 400, "%s must be a whole number from %ld to %ld\n", p->name, p->min, p->max);
      return 0;
    }
    long v = strtol(text, NULL, 10);
    if (v < p->min || v > p->max) {
      set_reply(r, 400, "%s must be a whole number from %ld to %ld\n", p->name, p->min, p->max);
      return 0;
    }
    p->value = v;
    p->seen = 1;
  }
  return 1;
}

static void dispatch(int fd, const char *method, char *target, struct reply *r) {
  if (strcmp(method, "GET") != 0) {
    set_reply(r, 405, "only GET\n");
    return;
  }
  char *query = strchr(target, '?');
  if (query) *query++ = '\0';
  if (strcmp(target, "/ping") == 0) {
    struct param none[1];
    if (parse_query(query, none, 0, r)) set_reply(r, 200, "pong\n");
  } else if (strcmp(target, "/cpu") == 0) {
    struct param p[] = {{"digits", 1, MAX_DIGITS, 1000, 0}};
    if (parse_query(query, p, 1, r)) job_cpu(p[0].value, r);
  } else if (strcmp(target, "/memory") == 0) {
    struct param p[] = {{"mb", 1, MAX_MB, 10, 0}, {"ms", 0, MAX_MS, 100, 0}};
    if (parse_query(query, p, 2, r)) job_memory(fd, p[0].value, p[1].value, r);
  } else if (strcmp(target, "/memory2") == 0) {
    struct param p[] = {{"mb", 1, MAX_MB, 10, 0}, {"ms", 0, MAX_MS, 100, 0}};
    if (parse_query(query, p, 2, r)) job_memory2(p[0].value, p[1].value, r);
  } else if (strcmp(target, "/dirty") == 0) {
    struct param p[] = {{"mb", 1, MAX_MB, 10, 0}, {"rate", 1, MAX_RATE_MBPS, 10, 0}, {"ms", 0, MAX_MS, 1000, 0}};
    if (parse_query(query, p, 3, r)) job_dirty(fd, p[0].value, p[1].value, p[2].value, r);
  } else if (strcmp(target, "/rewrite") == 0) {
    struct param p[] = {{"mb", 1, MAX_MB, 10, 0}, {"rate", 1, MAX_RATE_MBPS, 10, 0}, {"ms", 0, MAX_MS, 1000, 0}, {"order", 0, 1, 0, 0}};
    if (parse_query(query, p, 4, r)) job_rewrite(fd, p[0].value, p[1].value, p[2].value, (int)p[3].value, r);
  } else {
    set_reply(r, 404, "no such path\n");
  }
}

static const char *reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

static int write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    data += n;
    len -= (size_t)n;
  }
  return 1;
}

static int send_reply(int fd, const struct reply *r, double received_ms, int keep_alive) {
  char head[512];
  char checked[48] = "";
  size_t body_len = strlen(r->body);
  double processing = now_ms() - received_ms;
  if (r->corrupt_words >= 0) snprintf(checked, sizeof checked, "x-corrupt-words: %ld\r\n", r->corrupt_words);
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                   "x-server: %s\r\nx-processing-ms: %.3f\r\n%sConnection: %s\r\n\r\n",
                   r->status, reason_phrase(r->status), body_len, server_name, processing, checked,
                   keep_alive ? "keep-alive" : "close");
  return write_all(fd, head, (size_t)n) && write_all(fd, r->body, body_len);
}

/* Case-insensitive search for a header's value in the header block; copies it into `out`. */
static int header_value(const char *headers, const char *name, char *out, size_t size) {
  size_t name_len = strlen(name);
  for (const char *line = headers; line && *line; line = strstr(line, "\r\n")) {
    if (line[0] == '\r') line += 2;
    if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
      const char *v = line + name_len + 1;
      while (*v == ' ' || *v == '\t') v++;
      size_t len = strcspn(v, "\r\n");
      while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
      if (len >= size) len = size - 1;
      memcpy(out, v, len);
      out[len] = '\0';
      return 1;
    }
  }
  return 0;
}

/* Reads and discards `len` bytes of body, `have` of which are already in the buffer. */
static int discard_body(int fd, long len) {
  char sink[4096];
  while (len > 0) {
    ssize_t n = recv(fd, sink, len < (long)sizeof sink ? (size_t)len : sizeof sink, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    len -= n;
  }
  return 1;
}

static void serve_connection(int fd) {
  char buf[REQUEST_MAX + 1];
  size_t have = 0;
  for (;;) {
    char *end;
    buf[have] = '\0';
    while (!(end = strstr(buf, "\r\n\r\n"))) {
      if (have >= REQUEST_MAX) {
        struct reply r;
        set_reply(&r, 431, "request head too large\n");
        send_reply(fd, &r, now_ms(), 0);
        return;
      }
      ssize_t n = recv(fd, buf + have, REQUEST_MAX - have, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      have += (size_t)n;
      buf[have] = '\0';
    }
    double received = now_ms();
    size_t head_len = (size_t)(end - buf) + 4;
    *end = '\0';

    struct reply r;
    int keep_alive = 0;
    long body_len = 0;
    char method[16], target[1024], version[16];
    char *headers = strstr(buf, "\r\n");
    headers = headers ? headers + 2 : buf + strlen(buf);
    if (sscanf(buf, "%15s %1023s %15[^\r\n]", method, target, version) != 3 ||
        (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)) {
      set_reply(&r, 400, "malformed request line\n");
    } else {
      char value[64];
      keep_alive = strcmp(version, "HTTP/1.1") == 0;
      if (header_value(headers, "Connection", value, sizeof value)) {
        if (strcasecmp(value, "close") == 0) keep_alive = 0;
        if (strcasecmp(value, "keep-alive") == 0) keep_alive = 1;
      }
      if (header_value(headers, "Transfer-Encoding", value, sizeof value)) {
        set_reply(&r, 400, "chunked bodies are not accepted\n");
        keep_alive = 0;
      } else if (header_value(headers, "Content-Length", value, sizeof value)) {
        size_t n = strlen(value);
        body_len = n > 0 && n < 10 && strspn(value, "0123456789") == n ? strtol(value, NULL, 10) : -1;
        if (body_len < 0 || body_len > BODY_MAX) {
          set_reply(&r, body_len < 0 ? 400 : 413, "bad body length\n");
          keep_alive = 0;
          body_len = 0;
        } else {
          dispatch(fd, method, target, &r);
        }
      } else {
        dispatch(fd, method, target, &r);
      }
    }
    /* Pipelined bytes after this request's head: its body first, then the next request. */
    size_t rest = have - head_len;
    long in_buf = body_len < (long)rest ? body_len : (long)rest;
    memmove(buf, buf + head_len + in_buf, rest - (size_t)in_buf);
    have = rest - (size_t)in_buf;
    if (body_len > in_buf && !discard_body(fd, body_len - in_buf)) return;
    if (!send_reply(fd, &r, received, keep_alive) || !keep_alive) return;
  }
}

static void *connection_thread(void *arg) {
  int fd = (int)(intptr_t)arg;
  serve_connection(fd);
  close(fd);
  pthread_mutex_lock(&lock);
  connections--;
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* ---- start-up ----------------------------------------------------------------------------- */

static void name_from_cmdline(void) {
  FILE *f = fopen("/proc/cmdline", "r");
  if (!f) return;
  char line[4096];
  if (fgets(line, sizeof line, f)) {
    for (char *save = NULL, *word = strtok_r(line, " \n", &save); word; word = strtok_r(NULL, " \n", &save)) {
      if (strncmp(word, "vmm.name=", 9) == 0 && word[9]) snprintf(server_name, sizeof server_name, "%s", word + 9);
    }
  }
  fclose(f);
}

/* What the guest can spare for jobs: MemAvailable less 32 MB for the kernel and connections. */
static long default_budget_mb(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  long kb = -1;
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1) break;
    fclose(f);
  }
  if (kb < 0) return 1024;
  long mb = kb / 1024 - 32;
  return mb > 1 ? mb : 1;
}

static long number_arg(const char *flag, const char *text, long max) {
  char *end;
  long v = strtol(text, &end, 10);
  if (!*text || *end || v < 0 || v > max) {
    fprintf(stderr, "vmm-server: %s: expected a whole number from 0 to %ld\n", flag, max);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  const char *bind_addr = "0.0.0.0";
  long port = 80;
  memory_budget_mb = -1;
  name_from_cmdline();
  for (int i = 1; i < argc; i++) {
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (!value) {
      fprintf(stderr, "vmm-server: %s needs a value\n", argv[i]);
      return 2;
    }
    if (strcmp(argv[i], "--name") == 0) snprintf(server_name, sizeof server_name, "%s", value);
    else if (strcmp(argv[i], "--bind") == 0) bind_addr = value;
    else if (strcmp(argv[i], "--port") == 0) port = number_arg("--port", value, 65535);
    else if (strcmp(argv[i], "--max-mb") == 0) memory_budget_mb = number_arg("--max-mb", value, 1 << 20);
    else if (strcmp(argv[i], "--data-dir") == 0) data_dir = value;
    else {
      fprintf(stderr, "usage: vmm-server [--name NAME] [--bind ADDR] [--port N] [--max-mb N] [--data-dir DIR]\n");
      return 2;
    }
    i++;
  }
  if (memory_budget_mb < 0) memory_budget_mb = default_budget_mb();
  signal(SIGPIPE, SIG_IGN);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, bind_addr, &addr.sin_addr) != 1) {
    fprintf(stderr, "vmm-server: --bind: not an IPv4 address: %s\n", bind_addr);
    return 2;
  }
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 128) < 0) {
    perror("vmm-server: bind");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(listener, (struct sockaddr *)&addr, &len);
  printf("vmm-server: %s listening on %s:%u (memory budget %ld MB)\n", server_name, bind_addr, ntohs(addr.sin_port),
         memory_budget_mb);
  fflush(stdout);

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  for (;;) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
      if (errno != EINTR) sleep_ms(10);
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval idle = {IDLE_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
    pthread_mutex_lock(&lock);
    int accepted = connections < MAX_CONNECTIONS;
    if (accepted) connections++;
    pthread_mutex_unlock(&lock);
    pthread_t thread;
    if (!accepted || pthread_create(&thread, &attr, connection_thread, (void *)(intptr_t)fd) != 0) {
      if (accepted) {
        pthread_mutex_lock(&lock);
        connections--;
        pthread_mutex_unlock(&lock);
      }
      close(fd);
    }
  }
}
