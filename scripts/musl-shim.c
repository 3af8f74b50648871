// Lets Debian's glibc-built libstdc++.so.6 and libgcc_s.so.1 run under the
// musl loader, so that Bun built for musl (which links libstdc++ dynamically)
// runs on a Debian machine: scripts/bun-musl.sh. Test tooling only, never
// shipped, and loaded only into that Bun. Each definition is a glibc-only
// symbol those libraries ask for, done with musl's own means:
//   arc4random                 random bits from getrandom(2)
//   __strftime_l               musl's strftime_l
//   __cxa_thread_atexit_impl   thread_local destructors, run when a thread
//                              exits, through a pthread key (the main
//                              thread's are left to the process's end)
//   __libc_single_threaded     0: never claim one thread (the safe answer)
//   __cpu_model, __cpu_indicator_init   libgcc's CPU detection: "unknown",
//                              so function multiversioning takes the default
//   _dl_find_object            -1 ("not found"): libgcc's unwinder then
//                              falls back to dl_iterate_phdr, which musl has
//   __getauxval (arm64)        musl's getauxval
// On x86_64 libstdc++ also needs a library named ld-linux-x86-64.so.2, so the
// shim is installed under that name; on arm64 it is given by LD_PRELOAD, as
// the libraries name only libc.so.6 and libm.so.6, which musl maps to itself.
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>

uint32_t arc4random(void) {
  uint32_t value = 0;
  while (getrandom(&value, sizeof value, 0) != (ssize_t)sizeof value) {
  }
  return value;
}

size_t __strftime_l(char *s, size_t n, const char *format, const struct tm *tm, locale_t locale) {
  return strftime_l(s, n, format, tm, locale);
}

char __libc_single_threaded = 0;

struct {
  unsigned int vendor, type, subtype, features[1];
} __cpu_model;

int __cpu_indicator_init(void) { return 0; }

int _dl_find_object(void *address, void *result) {
  (void)address;
  (void)result;
  return -1;
}

unsigned long __getauxval(unsigned long type) { return getauxval(type); }

struct destructor {
  void (*run)(void *);
  void *object;
  struct destructor *next;
};
static pthread_key_t destructors;
static pthread_once_t destructors_once = PTHREAD_ONCE_INIT;

static void run_destructors(void *list) {
  for (struct destructor *d = list, *next; d != NULL; d = next) {
    next = d->next;
    d->run(d->object);
    free(d);
  }
}

static void make_key(void) { pthread_key_create(&destructors, run_destructors); }

int __cxa_thread_atexit_impl(void (*run)(void *), void *object, void *dso) {
  (void)dso;
  pthread_once(&destructors_once, make_key);
  struct destructor *d = malloc(sizeof *d);
  if (d == NULL) return -1;
  d->run = run;
  d->object = object;
  d->next = pthread_getspecific(destructors);  // last registered runs first, as C++ requires
  return pthread_setspecific(destructors, d) == 0 ? 0 : -1;
}
