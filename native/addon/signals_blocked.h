// SignalsBlocked: keeps signals off the calling thread while it loads BPF
// programs. The verifier gives up with EAGAIN when a signal is pending, and
// a sampling profiler (node --cpu-prof: SIGPROF every millisecond) made every
// one of libbpf's retries fail. Process-directed signals go to another thread
// meanwhile; thread-directed ones wait until the scope ends.
#pragma once
#include <pthread.h>
#include <signal.h>

namespace xvpc {

class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

}  // namespace xvpc
