//! The run's outgoing events: matches and errors wait for room (never dropped), new bests and halts never wait (bests coalesce).

use super::Event;
use crate::sync::lock;
use crossbeam_channel::{Sender, TrySendError};
use std::sync::Mutex;

/// The sending side of [`crate::Run::events`], bounded or not.
pub(crate) struct Outbox {
    events: Sender<Event>,
    /// Events that found a bounded channel full and must not hold up their sender
    /// (new bests, coalesced to the latest; halts): sent before any later event.
    pending: Mutex<Vec<Event>>,
}

impl Outbox {
    pub fn new(events: Sender<Event>) -> Self {
        Self {
            events,
            pending: Mutex::new(Vec::new()),
        }
    }

    /// Sends a match or an error: waits for room on a bounded channel (never drops it),
    /// after passing on what waits in `pending` where there is room.
    pub fn send(&self, event: Event) {
        Self::flush(&self.events, &mut lock(&self.pending));
        let _sent = self.events.send(event);
    }

    /// Sends a new best or a halt without ever waiting: when the channel is full it
    /// waits in `pending`, where a newer best replaces an older one.
    pub fn offer(&self, event: Event) {
        let mut pending = lock(&self.pending);
        Self::flush(&self.events, &mut pending);
        let event = if pending.is_empty() {
            match self.events.try_send(event) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(event)) => event,
            }
        } else {
            event
        };
        if matches!(event, Event::NewBest { .. }) {
            pending.retain(|queued| !matches!(queued, Event::NewBest { .. }));
        }
        pending.push(event);
    }

    /// Sends everything still pending, waiting for room, then `last`: the run's final event.
    /// Every worker is gone by then, so `pending` can only grow by a late halt.
    pub fn close_with(&self, last: Event) {
        loop {
            let pending = std::mem::take(&mut *lock(&self.pending));
            if pending.is_empty() {
                break;
            }
            for event in pending {
                let _sent = self.events.send(event);
            }
        }
        let _sent = self.events.send(last);
    }

    /// Moves queued events into the channel, oldest first, as far as there is room.
    fn flush(events: &Sender<Event>, pending: &mut Vec<Event>) {
        let mut sent = 0;
        for event in pending.iter() {
            match events.try_send(event.clone()) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => sent += 1,
                Err(TrySendError::Full(_)) => break,
            }
        }
        pending.drain(..sent);
    }
}
