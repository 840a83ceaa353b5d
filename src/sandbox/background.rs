//! Work that outlives the request that started it but not the server: when the server shuts down
//! it asks every such task to stop, then waits until all of them have finished.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

/// Cloned into handler state to start tasks the server will wait for.
#[derive(Clone)]
pub struct Background {
    stop: watch::Receiver<bool>,
    /// How many tasks are running; each task's [`Alive`] guard takes its count back when it ends.
    running: Arc<watch::Sender<usize>>,
}

/// Kept by the server: asks the tasks to stop and waits for them.
pub struct Owner {
    stop: watch::Sender<bool>,
    running: watch::Receiver<usize>,
}

/// Resolves [`StopSignal::requested`] once the server is shutting down.
pub struct StopSignal(watch::Receiver<bool>);

/// Counts a task as running until dropped, even if the task panics.
struct Alive(Arc<watch::Sender<usize>>);

pub fn channel() -> (Owner, Background) {
    let (stop, stop_rx) = watch::channel(false);
    let (running, running_rx) = watch::channel(0);
    let owner = Owner {
        stop,
        running: running_rx,
    };
    let background = Background {
        stop: stop_rx,
        running: Arc::new(running),
    };
    (owner, background)
}

impl Background {
    /// Runs `task` in a tokio task; it should return soon after its [`StopSignal`] fires.
    pub fn spawn<F, Fut>(&self, task: F)
    where
        F: FnOnce(StopSignal) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.running.send_modify(|n| *n += 1);
        let alive = Alive(self.running.clone());
        let work = task(StopSignal(self.stop.clone()));
        tokio::spawn(async move {
            let _alive = alive;
            work.await;
        });
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl StopSignal {
    pub async fn requested(&mut self) {
        // A dropped owner means the server is gone: stop as well.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

impl Owner {
    pub async fn stop_and_wait(mut self) {
        self.stop.send_replace(true);
        // The sender lives in every Background clone and task; an error means none is left.
        let _ = self.running.wait_for(|n| *n == 0).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn waits_for_tasks_to_notice_the_stop() {
        let (owner, background) = channel();
        let noticed = Arc::new(AtomicBool::new(false));
        let flag = noticed.clone();
        background.spawn(move |mut stop| async move {
            stop.requested().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            flag.store(true, Ordering::SeqCst);
        });
        owner.stop_and_wait().await;
        assert!(noticed.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn returns_at_once_without_tasks() {
        let (owner, _background) = channel();
        tokio::time::timeout(Duration::from_secs(1), owner.stop_and_wait())
            .await
            .unwrap();
    }
}
