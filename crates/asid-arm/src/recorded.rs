//! The recording layer: a wrapper around any arm that writes every command and every state to a
//! [`Recorder`] as it happens, and stops the arm if the recording fails (a run that cannot be
//! recorded is a run that is lost).

use crate::{
    Arm, ArmCommand, ArmError, ArmState, Capabilities, CommandRecord, EventRecord, GripperRecord,
    GripperState, Level, Record, Recorder,
};

/// An arm whose traffic is recorded.
pub struct Recorded<A, R> {
    inner: A,
    recorder: R,
    last_stamp_ns: u64,
    since_flush: usize,
    flush_every: usize,
}

impl<A: Arm, R: Recorder> Recorded<A, R> {
    /// Wraps `inner`; the recorder is flushed every `flush_every` control periods and on every
    /// event, so a crash loses at most that many periods.
    pub fn new(inner: A, recorder: R, flush_every: usize) -> Self {
        Self {
            inner,
            recorder,
            last_stamp_ns: 0,
            since_flush: 0,
            flush_every: flush_every.max(1),
        }
    }

    /// Records something that is not arm traffic (plan actions, object poses, events).
    pub fn record(&mut self, record: &Record) -> Result<(), ArmError> {
        self.recorder
            .write(record)
            .map_err(|e| ArmError::Backend(format!("recording failed: {e}")))
    }

    /// Records a gripper state, stamped with the last arm state's stamp (read the arm's `state`
    /// first to stamp it at the arm's current time, e.g. after a gripper motion that took time).
    pub fn record_gripper(&mut self, state: &GripperState) -> Result<(), ArmError> {
        let r = Record::Gripper(GripperRecord::new(self.last_stamp_ns, state));
        self.record(&r)
    }

    /// Records an event and flushes.
    pub fn event(&mut self, level: Level, text: &str) -> Result<(), ArmError> {
        let r = Record::Event(EventRecord {
            stamp_ns: self.last_stamp_ns,
            level,
            text: text.to_string(),
        });
        self.record(&r)?;
        self.flush()
    }

    /// Makes everything recorded so far durable.
    pub fn flush(&mut self) -> Result<(), ArmError> {
        self.since_flush = 0;
        self.recorder
            .flush()
            .map_err(|e| ArmError::Backend(format!("recording failed: {e}")))
    }

    /// The wrapped arm.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// The wrapped arm, mutably.
    pub fn inner_mut(&mut self) -> &mut A {
        &mut self.inner
    }

    /// The recorder, e.g. to write metadata or finish the file.
    pub fn recorder_mut(&mut self) -> &mut R {
        &mut self.recorder
    }

    /// Unwraps into the arm and the recorder.
    pub fn into_parts(self) -> (A, R) {
        (self.inner, self.recorder)
    }

    /// Writes a state and keeps the stamp.
    fn keep(&mut self, state: &ArmState) -> Result<(), ArmError> {
        self.last_stamp_ns = state.stamp_ns;
        self.record(&Record::State(state.clone()))
    }

    /// A write failed: stop the arm, then report.
    async fn fail(&mut self, e: ArmError) -> ArmError {
        let _ = self.inner.stop().await;
        e
    }
}

impl<A: Arm, R: Recorder> Arm for Recorded<A, R> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn state(&mut self) -> Result<ArmState, ArmError> {
        let s = self.inner.state().await?;
        if let Err(e) = self.keep(&s) {
            return Err(self.fail(e).await);
        }
        Ok(s)
    }

    async fn step(&mut self, command: &ArmCommand) -> Result<ArmState, ArmError> {
        let sent = Record::Command(CommandRecord {
            stamp_ns: self.last_stamp_ns,
            command: command.clone(),
        });
        if let Err(e) = self.record(&sent) {
            return Err(self.fail(e).await);
        }
        match self.inner.step(command).await {
            Ok(s) => {
                if let Err(e) = self.keep(&s) {
                    return Err(self.fail(e).await);
                }
                self.since_flush += 1;
                if self.since_flush >= self.flush_every
                    && let Err(e) = self.flush()
                {
                    return Err(self.fail(e).await);
                }
                Ok(s)
            }
            Err(e) => {
                // The error is returned to the caller; recording it must not hide it.
                let _ = self.event(Level::Error, &e.to_string());
                Err(e)
            }
        }
    }

    async fn stop(&mut self) -> Result<ArmState, ArmError> {
        let result = self.inner.stop().await;
        match &result {
            Ok(s) => {
                let _ = self.keep(s);
                let _ = self.event(Level::Info, "stopped");
            }
            Err(e) => {
                let _ = self.event(Level::Error, &format!("stop failed: {e}"));
                // Keep the last state the arm can still give.
                if let Ok(s) = self.inner.state().await {
                    let _ = self.keep(&s);
                    let _ = self.flush();
                }
            }
        }
        result
    }
}
