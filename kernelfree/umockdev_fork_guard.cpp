// A preload library loaded right after umockdev's (`vauth run` puts it there)
// that makes fork() safe under it.
//
// Why: libumockdev-preload (0.17) serialises its path wrappers (open, stat,
// opendir, ...) with one global mutex, `trap_path_lock`, and its ioctl
// emulation with `ioctl_lock`, but registers no fork handler. When a
// multi-threaded program forks while another thread is inside a wrapper, the
// child starts with that mutex locked by a thread it does not have; its first
// wrapped call before exec (Chromium's launcher closes inherited fds through
// /proc/self/fd) then blocks forever. The browser waits for a child process
// that never starts, and the page never loads (seen in about 1 of 30 Chromium
// starts). umockdev exports both mutexes, so the standard remedy applies from
// outside: hold them across fork() (pthread_atfork), so no other thread can be
// inside a wrapper at that instant, and give the child fresh ones.
//
// Lock order: trap_path_lock, then ioctl_lock. umockdev never takes the path
// lock while it holds the ioctl lock, so this order cannot deadlock with it.
#include <dlfcn.h>
#include <pthread.h>

namespace {

pthread_mutex_t* trap_path_lock = nullptr;
pthread_mutex_t* ioctl_lock = nullptr;

void before_fork() {
  pthread_mutex_lock(trap_path_lock);
  if (ioctl_lock) pthread_mutex_lock(ioctl_lock);
}

void after_fork_in_parent() {
  if (ioctl_lock) pthread_mutex_unlock(ioctl_lock);
  pthread_mutex_unlock(trap_path_lock);
}

// The child's only thread is the one that forked, which holds both locks: a
// fresh mutex is the state umockdev expects in a new process.
void after_fork_in_child() {
  if (ioctl_lock) pthread_mutex_init(ioctl_lock, nullptr);
  pthread_mutex_init(trap_path_lock, nullptr);
}

__attribute__((constructor)) void install_fork_handlers() {
  trap_path_lock = static_cast<pthread_mutex_t*>(dlsym(RTLD_DEFAULT, "trap_path_lock"));
  ioctl_lock = static_cast<pthread_mutex_t*>(dlsym(RTLD_DEFAULT, "ioctl_lock"));
  // Without umockdev's preload (or a version that hides its locks) there is nothing to guard.
  if (trap_path_lock) pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

}  // namespace
