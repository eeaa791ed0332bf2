/*
 * vmm-server: the workload server that runs inside each lab VM (see src/platforms/qemu/).
 *
 * A small HTTP/1.1 server with keep-alive, one thread per connection and one job per
 * request: the seed's three server applications plus a ping and a page dirtier.
 *
 *   GET /cpu?digits=N             compute pi to N digits (spigot algorithm)
 *   GET /memory?mb=M&ms=T         allocate M MB, fill it with a constant, sleep T ms (or until the
 *                                 client closes the connection), free it
 *   GET /memory2?mb=M&ms=T        allocate M MB, keep refilling it for T ms, free it
 *   GET /dirty?mb=M&rate=R&ms=T   allocate M MB, dirty R MB/s of its pages for T ms (or until the
 *                                 client closes the connection), free it
 *   GET /ping                     answer at once
 *
 * Every response carries `x-server: NAME` (the VM's name) and `x-processing-ms: N` (from the
 * whole request being read to the answer being written, in milliseconds). Parameters are
 * bounded; a bad, unknown or out-of-range one gets 400. Memory jobs share a budget so that the
 * guest never runs out of memory: a request that would exceed it gets 503.
 *
 * The name comes from --name, else `vmm.name=` on the kernel command line, else "unknown".
 * Usage: vmm-server [--name NAME] [--bind ADDR] [--port N] [--max-mb N]
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

static char server_name[64] = "unknown";
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

/* Anonymous memory straight from the kernel, so that freeing it really returns it. */
static unsigned char *map_mb(long mb) {
  void *p = mmap(NULL, (size_t)mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void unmap_mb(unsigned char *p, long mb) { munmap(p, (size_t)mb << 20); }

/* ---- jobs -------------------------------------------------------------------------------- */

struct reply {
  int status;
  char body[256];
};

static void set_reply(struct reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_reply(struct reply *r, int status, const char *fmt, ...) {
  va_list ap;
  r->status = status;
  va_start(ap, fmt);
  vsnprintf(r->body, sizeof r->body, fmt, ap);
  va_end(ap);
}

/* A job's buffer within the memory budget, or NULL with a 503 reply already set. */
static unsigned char *acquire_buffer(long mb, struct reply *r) {
  if (!reserve_mb(mb)) {
    set_reply(r, 503, "memory budget exceeded (%ld MB)\n", memory_budget_mb);
    return NULL;
  }
  unsigned char *buf = map_mb(mb);
  if (!buf) {
    release_mb(mb);
    set_reply(r, 503, "out of memory\n");
  }
  return buf;
}

static void release_buffer(unsigned char *buf, long mb) {
  unmap_mb(buf, mb);
  release_mb(mb);
}

/* Pi to `digits` digits, D. T. Winter's spigot in base 10000; keeps the first 64 digits. */
static void job_cpu(long digits, struct reply *r) {
  long groups = (digits + 3) / 4;
  long c = groups * 14;
  uint32_t *f = malloc((size_t)(c + 1) * sizeof *f);
  if (!f) {
    set_reply(r, 503, "out of memory\n");
    return;
  }
  char first[72] = "";
  size_t used = 0;
  uint64_t e = 0;
  for (long b = 0; b <= c; b++) f[b] = 2000; /* 10000 / 5 */
  for (; c > 0; c -= 14) {
    uint64_t d = 0;
    uint64_t g = (uint64_t)c * 2;
    for (long b = c;;) {
      d += (uint64_t)f[b] * 10000;
      f[b] = (uint32_t)(d % --g);
      d /= g--;
      if (--b == 0) break;
      d *= (uint64_t)b;
    }
    unsigned group = (unsigned)(e + d / 10000);
    e = d % 10000;
    if (used + 4 <= 64) used += (size_t)snprintf(first + used, sizeof first - used, "%04u", group);
  }
  free(f);
  set_reply(r, 200, "digits=%ld pi=%s\n", digits, first);
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

static void job_memory(int fd, long mb, long ms, struct reply *r) {
  unsigned char *buf = acquire_buffer(mb, r);
  if (!buf) return;
  memset(buf, 0x5a, (size_t)mb << 20);
  sleep_while_client_waits(fd, (double)ms);
  release_buffer(buf, mb);
  set_reply(r, 200, "memory mb=%ld ms=%ld\n", mb, ms);
}

static void job_memory2(long mb, long ms, struct reply *r) {
  unsigned char *buf = acquire_buffer(mb, r);
  if (!buf) return;
  double until = now_ms() + (double)ms;
  long fills = 0, chunks = 0;
  unsigned char value = 1;
  do {
    /* One pass over the buffer, a megabyte at a time, watching the clock between chunks. */
    for (long chunk = 0; chunk < mb; chunk++) {
      memset(buf + ((size_t)chunk << 20), value, 1 << 20);
      chunks++;
      if (now_ms() >= until) break;
    }
    fills++;
    value = (unsigned char)(value % 255 + 1);
  } while (now_ms() < until);
  release_buffer(buf, mb);
  set_reply(r, 200, "memory2 mb=%ld ms=%ld fills=%ld written_mb=%ld\n", mb, ms, fills, chunks);
}

/*
 * Dirties `rate` MB/s of distinct pages, cycling through the buffer, in 10 ms ticks. Stops
 * early, freeing the buffer, when the client on `fd` goes away: a long job nobody waits for
 * would go on dirtying memory.
 */
static void job_dirty(int fd, long mb, long rate, long ms, struct reply *r) {
  unsigned char *buf = acquire_buffer(mb, r);
  if (!buf) return;
  size_t pages = ((size_t)mb << 20) / PAGE;
  memset(buf, 0, (size_t)mb << 20);
  double start = now_ms();
  double until = start + (double)ms;
  double pages_per_ms = (double)rate * 256.0 / 1000.0;
  uint64_t dirtied = 0;
  size_t next = 0;
  unsigned char value = 1;
  for (double tick = start; tick < until && !client_gone(fd); tick += 10) {
    double due_until = (tick + 10 < until ? tick + 10 : until) - start;
    uint64_t due = (uint64_t)(due_until * pages_per_ms);
    while (dirtied < due) {
      buf[next * PAGE] = value;
      dirtied++;
      if (++next == pages) {
        next = 0;
        value = (unsigned char)(value % 255 + 1);
      }
    }
    double left = tick + 10 - now_ms();
    if (left > 0) sleep_ms(left);
  }
  double took = now_ms() - start;
  release_buffer(buf, mb);
  set_reply(r, 200, "dirty mb=%ld rate=%ld ms=%ld dirtied_mb=%.1f took_ms=%.0f\n", mb, rate, ms,
            (double)dirtied * PAGE / (1 << 20), took);
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
  size_t body_len = strlen(r->body);
  double processing = now_ms() - received_ms;
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                   "x-server: %s\r\nx-processing-ms: %.3f\r\nConnection: %s\r\n\r\n",
                   r->status, reason_phrase(r->status), body_len, server_name, processing,
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
    else {
      fprintf(stderr, "usage: vmm-server [--name NAME] [--bind ADDR] [--port N] [--max-mb N]\n");
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
