//! The commit clock: the latest committed timestamp, the wall-clock time
//! of recent commits, and a way to wait for the next commit. Subscription
//! cursors and sinks wait on it for new changes of their views.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex};

/// How many recent commits keep their wall-clock time.
const WALL_TIMES_KEPT: usize = crate::subscriptions::RETAINED_COMMITS_MAX as usize + 1;

/// See the module comment.
pub struct CommitClock {
    state: Mutex<ClockState>,
    committed: Condvar,
}

struct ClockState {
    ts: u64,
    /// Commit timestamp -> milliseconds since the Unix epoch, never
    /// decreasing with the timestamp.
    wall: BTreeMap<u64, i64>,
}

impl CommitClock {
    /// A clock whose latest commit is `ts` (the state loaded at startup).
    pub fn new(ts: u64) -> CommitClock {
        let mut wall = BTreeMap::new();
        wall.insert(ts, now_ms());
        CommitClock { state: Mutex::new(ClockState { ts, wall }), committed: Condvar::new() }
    }

    /// Records the commit at `ts` (called once it is visible) and wakes
    /// the waiters.
    pub fn advance(&self, ts: u64) {
        let mut state = self.state.lock();
        let last = state.wall.values().next_back().copied().unwrap_or(i64::MIN);
        state.ts = state.ts.max(ts);
        state.wall.insert(ts, now_ms().max(last));
        while state.wall.len() > WALL_TIMES_KEPT {
            state.wall.pop_first();
        }
        self.committed.notify_all();
    }

    /// The latest committed timestamp.
    pub fn latest(&self) -> u64 {
        self.state.lock().ts
    }

    /// Waits until a commit after `ts` exists or `deadline` passes (or
    /// `stop` says so, checked every 100 ms); returns the latest committed
    /// timestamp.
    pub fn wait_after(&self, ts: u64, deadline: Instant, stop: &dyn Fn() -> bool) -> u64 {
        let mut state = self.state.lock();
        while state.ts <= ts && !stop() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let step = (deadline - now).min(std::time::Duration::from_millis(100));
            self.committed.wait_for(&mut state, step);
        }
        state.ts
    }

    /// The wall-clock time of the commit at `ts` in milliseconds since the
    /// epoch (the nearest known earlier commit's when it was not recorded).
    pub fn wall_ms(&self, ts: u64) -> i64 {
        let state = self.state.lock();
        state.wall.range(..=ts).next_back().or_else(|| state.wall.iter().next()).map(|(_, ms)| *ms).unwrap_or_else(now_ms)
    }

    /// The last commit at or before `ms` (milliseconds since the epoch), if
    /// the clock still knows commits that old.
    pub fn last_commit_at_or_before(&self, ms: i64) -> Option<u64> {
        let state = self.state.lock();
        let (oldest_ts, oldest_ms) = state.wall.iter().next().map(|(t, m)| (*t, *m))?;
        if ms < oldest_ms {
            return (oldest_ts == 0).then_some(0);
        }
        state.wall.iter().take_while(|(_, m)| **m <= ms).last().map(|(t, _)| *t)
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
