//! [`Spin`]: a future polled over and over for a short while before its task sleeps.
//!
//! The stage loop waits for its next input between batches. Asleep, its thread leaves the
//! core, and a thread woken after a sleep finds the core's caches and predictors cold: on
//! the 2-core reference machine (a virtual one), `stage-throughput` with a 0.5 ms sleep
//! before every fifth event spent about 1.6 times as long in the stages as it did running
//! them back to back, and 1.15 times with a 0.5 ms spin instead of the sleep (see
//! docs/operations.md, Spinning before sleeping). At a steady flow the next input comes
//! within a fraction of a millisecond: looking for it that long keeps the stage loop warm.
//! The thread yields its core at each turn, so any other thread that has work runs first.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Polls `inner` again and again, yielding the thread's core between polls, for up to
/// `budget` after its first poll finds it pending; then waits to be woken as any future
/// does. A zero budget polls once, as `inner` alone would.
pub struct Spin<F> {
    inner: F,
    budget: Duration,
    spun: bool,
}

impl<F> Spin<F> {
    /// `inner`, spun for up to `budget` before its task sleeps.
    pub fn new(inner: F, budget: Duration) -> Self {
        Spin {
            inner,
            budget,
            spun: false,
        }
    }
}

impl<F: Future + Unpin> Future for Spin<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if let Poll::Ready(out) = Pin::new(&mut this.inner).poll(cx) {
            return Poll::Ready(out);
        }
        // Once per wait: woken, a future that is still pending sleeps again at once.
        if this.spun || this.budget.is_zero() {
            return Poll::Pending;
        }
        this.spun = true;
        let until = Instant::now() + this.budget;
        while Instant::now() < until {
            std::thread::yield_now();
            if let Poll::Ready(out) = Pin::new(&mut this.inner).poll(cx) {
                return Poll::Ready(out);
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ready at its `ready_at`-th poll; counts its polls.
    struct Countdown {
        polls: u32,
        ready_at: u32,
    }

    impl Future for Countdown {
        type Output = u32;

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
            self.polls += 1;
            if self.polls >= self.ready_at {
                Poll::Ready(self.polls)
            } else {
                Poll::Pending
            }
        }
    }

    fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        Pin::new(f).poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn a_future_ready_while_spinning_is_ready_at_the_first_poll() {
        let mut spin = Spin::new(
            Countdown {
                polls: 0,
                ready_at: 5,
            },
            Duration::from_secs(10),
        );
        assert_eq!(poll_once(&mut spin), Poll::Ready(5));
    }

    #[test]
    fn a_future_still_pending_after_the_budget_waits_and_spins_once_per_wait() {
        let budget = Duration::from_millis(2);
        let mut spin = Spin::new(
            Countdown {
                polls: 0,
                ready_at: u32::MAX,
            },
            budget,
        );
        let started = Instant::now();
        assert_eq!(poll_once(&mut spin), Poll::Pending);
        assert!(started.elapsed() >= budget);
        let spun = spin.inner.polls;
        assert!(spun > 1, "polled {spun} times while spinning");
        // Woken again: polled once, no second spin.
        assert_eq!(poll_once(&mut spin), Poll::Pending);
        assert_eq!(spin.inner.polls, spun + 1);
    }

    #[test]
    fn without_a_budget_the_future_is_polled_once() {
        let mut spin = Spin::new(
            Countdown {
                polls: 0,
                ready_at: 2,
            },
            Duration::ZERO,
        );
        assert_eq!(poll_once(&mut spin), Poll::Pending);
        assert_eq!(spin.inner.polls, 1);
        assert_eq!(poll_once(&mut spin), Poll::Ready(2));
    }
}
