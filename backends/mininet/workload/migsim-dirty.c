/*
 * migsim-dirty: the testbed's live-migration workload. Holds HOLD bytes of memory, of which the
 * first WSET bytes (the working set) are re-dirtied at RATE bytes per second, one 4 KiB page at a
 * time in a cycle, and prints a counter every 50 ms. Its state must survive a migration:
 *   - the counter continues from the checkpointed value (the driver reads it from stdout);
 *   - every page of HOLD carries a stamp (the write that last touched it), and every second the
 *     process checks the sum of the stamps against the sum it keeps, so a page lost or stale after
 *     a restore (pre-copy rounds, post-copy lazy pages) stops it with "CORRUPT" and exit code 3.
 * A page is dirtied by writing its stamp: one word per page makes the whole page dirty for CRIU
 * (the memory is kept out of transparent huge pages, so "page" means 4 KiB for CRIU too).
 *
 *   migsim-dirty HOLD WSET RATE      (bytes, bytes, bytes per second; WSET <= HOLD)
 *
 * Output: "N" per tick; "CORRUPT ..." on a failed check. Static C so it runs in the busybox image.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define TICK_NS 50000000L

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long parse(const char *s, const char *what) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0') {
    fprintf(stderr, "migsim-dirty: %s must be a whole number of bytes, got %s\n", what, s);
    exit(2);
  }
  return (unsigned long)v;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: migsim-dirty HOLD WSET RATE\n");
    return 2;
  }
  unsigned long hold = parse(argv[1], "HOLD"), wset = parse(argv[2], "WSET");
  double rate = (double)parse(argv[3], "RATE");
  unsigned long pages = (hold + PAGE - 1) / PAGE, wpages = (wset + PAGE - 1) / PAGE;
  if (pages == 0) pages = 1;
  if (wpages > pages) wpages = pages;
  unsigned char *mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("migsim-dirty: mmap");
    return 2;
  }
  /* 4 KiB pages, not transparent huge pages: the kernel's soft-dirty bit marks a huge page dirty
   * as a whole, so one stamp would make CRIU's next pre-dump write 2 MiB instead of the 4 KiB page
   * the dirty rate counts (advice only: a kernel without THP has nothing to turn off) */
  madvise(mem, pages * PAGE, MADV_NOHUGEPAGE);
  uint64_t stamp = 0, sum = 0;
  for (unsigned long p = 0; p < pages; p++) {
    /* the whole page is written (not only the stamp), so no page is a shared zero page */
    memset(mem + p * PAGE, (int)(p & 0xff) | 1, PAGE);
    uint64_t s = ++stamp;
    memcpy(mem + p * PAGE, &s, sizeof s);
    sum += s;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  unsigned long next = 0, counter = 0;
  double owed = 0, last = now();
  struct timespec tick = {0, TICK_NS};
  for (;;) {
    counter++;
    printf("%lu\n", counter);
    nanosleep(&tick, NULL);
    double t = now(), dt = t - last;
    last = t;
    /* a checkpoint pause (or a clock that moved across hosts) is not made up for afterwards */
    if (dt < 0 || dt > 1) dt = 0.05;
    owed += rate * dt / PAGE;
    if (owed > (double)wpages) owed = (double)wpages; /* a page dirtied twice in one tick is dirtied once */
    while (owed >= 1 && wpages > 0) {
      unsigned char *pg = mem + next * PAGE;
      uint64_t old;
      memcpy(&old, pg, sizeof old);
      uint64_t s = ++stamp;
      memcpy(pg, &s, sizeof s);
      sum += s - old;
      next = (next + 1) % wpages;
      owed -= 1;
    }
    if (counter % 20 == 0) {
      uint64_t check = 0;
      for (unsigned long p = 0; p < pages; p++) {
        uint64_t s;
        memcpy(&s, mem + p * PAGE, sizeof s);
        check += s;
      }
      if (check != sum) {
        printf("CORRUPT counter %lu: page stamps sum to %llu, expected %llu\n", counter,
               (unsigned long long)check, (unsigned long long)sum);
        return 3;
      }
    }
  }
}
