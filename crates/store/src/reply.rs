//! [`Reply`]: the answer to a ledger request, usable from blocking and async
//! code alike.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::StoreError;

/// The pending answer to a [`Ledger`](crate::Ledger) request.
///
/// Call [`wait`](Reply::wait) from blocking code, or `.await` it from async
/// code (it does not block the executor's thread). For writes, the answer
/// arrives only after the write was committed with `synchronous=FULL`.
/// Dropping a `Reply` does not cancel the request.
#[must_use = "a Reply does nothing unless waited on or awaited"]
pub struct Reply<T> {
    rx: oneshot::Receiver<Result<T, StoreError>>,
}

impl<T> Reply<T> {
    pub(crate) fn new(rx: oneshot::Receiver<Result<T, StoreError>>) -> Self {
        Reply { rx }
    }

    /// Block the current thread until the ledger answers.
    ///
    /// Returns [`StoreError::Closed`] if the ledger thread stopped before
    /// answering.
    pub fn wait(self) -> Result<T, StoreError> {
        self.rx.recv().unwrap_or(Err(StoreError::Closed))
    }
}

impl<T> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply").finish_non_exhaustive()
    }
}

impl<T> IntoFuture for Reply<T> {
    type Output = Result<T, StoreError>;
    type IntoFuture = ReplyFuture<T>;

    fn into_future(self) -> Self::IntoFuture {
        ReplyFuture { rx: self.rx }
    }
}

/// The future behind `reply.await`.
#[must_use = "futures do nothing unless polled"]
pub struct ReplyFuture<T> {
    rx: oneshot::Receiver<Result<T, StoreError>>,
}

impl<T> fmt::Debug for ReplyFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyFuture").finish_non_exhaustive()
    }
}

impl<T> Future for ReplyFuture<T> {
    type Output = Result<T, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(StoreError::Closed)))
    }
}
