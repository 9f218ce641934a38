//! Whole lines or nothing: a buffer of complete JSON lines in front of a file (or standard
//! output). When writing the buffer fails part-way, as on a full disk, the file is cut back to
//! its last whole line, so what is on disk is always whole lines and the caller can count
//! exactly the lines that made it (issue 10, "Disk full").

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

/// An output that can be cut back to a length after a partial write.
pub trait LineStore: Write + Send {
    /// Cuts the output back to `len` bytes and continues writing there. Returns `Ok(false)`
    /// for outputs that cannot be cut (a pipe, a terminal, a character device).
    fn cut_to(&mut self, len: u64) -> io::Result<bool>;
}

impl LineStore for File {
    fn cut_to(&mut self, len: u64) -> io::Result<bool> {
        if !self.metadata()?.is_file() {
            return Ok(false);
        }
        self.set_len(len)?;
        self.seek(SeekFrom::Start(len))?;
        Ok(true)
    }
}

impl<S: LineStore + ?Sized> LineStore for Box<S> {
    fn cut_to(&mut self, len: u64) -> io::Result<bool> {
        (**self).cut_to(len)
    }
}

impl LineStore for io::Stdout {
    fn cut_to(&mut self, _len: u64) -> io::Result<bool> {
        Ok(false)
    }
}

impl LineStore for Vec<u8> {
    fn cut_to(&mut self, len: u64) -> io::Result<bool> {
        self.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(true)
    }
}

/// Buffered whole lines for one [`LineStore`], and how many bytes of whole lines it holds.
pub struct Lines<S: LineStore> {
    store: S,
    buf: Vec<u8>,
    capacity: usize,
    /// Bytes of whole lines known to be in the store.
    good_len: u64,
}

impl<S: LineStore> Lines<S> {
    /// `good_len` is the store's current length (0 for a new file), `capacity` the buffer's.
    pub fn new(store: S, capacity: usize, good_len: u64) -> Self {
        Self {
            store,
            buf: Vec::with_capacity(capacity.min(1 << 20)),
            capacity,
            good_len,
        }
    }

    /// Adds one line (without its newline) to the buffer.
    pub fn push(&mut self, line: &[u8]) {
        self.buf.extend_from_slice(line);
        self.buf.push(b'\n');
    }

    /// The buffer has reached its capacity: time to [`Lines::write_out`].
    pub fn is_full(&self) -> bool {
        self.buf.len() >= self.capacity
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Writes the buffered lines out and empties the buffer. `Ok`: all of them are in the
    /// store. `Err`: none of them is (the store was cut back to its last whole line, or cannot
    /// be cut, which is logged).
    pub fn write_out(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self
            .store
            .write_all(&self.buf)
            .and_then(|()| self.store.flush());
        match result {
            Ok(()) => {
                self.good_len += self.buf.len() as u64;
                self.buf.clear();
                Ok(())
            }
            Err(error) => {
                self.buf.clear();
                match self.store.cut_to(self.good_len) {
                    Ok(_) => {}
                    Err(cut) => {
                        tracing::error!(error = %cut, "Cannot cut a partly written line off the output; its last line may be incomplete.");
                    }
                }
                Err(error)
            }
        }
    }

    pub fn into_store(self) -> S {
        self.store
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Takes `limit` bytes, then fails like a full disk (after a short write, as write(2) does).
    /// `data` is shared so a test can read it while a sink owns the store.
    #[derive(Clone, Default)]
    pub struct FullAfter {
        pub data: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        pub limit: usize,
    }

    impl FullAfter {
        pub fn new(limit: usize) -> Self {
            Self {
                data: Default::default(),
                limit,
            }
        }

        pub fn bytes(&self) -> Vec<u8> {
            self.data.lock().unwrap().clone()
        }
    }

    impl Write for FullAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut data = self.data.lock().unwrap();
            let room = self.limit.saturating_sub(data.len());
            if room == 0 {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
            let n = room.min(buf.len());
            data.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl LineStore for FullAfter {
        fn cut_to(&mut self, len: u64) -> io::Result<bool> {
            self.data.lock().unwrap().truncate(len as usize);
            Ok(true)
        }
    }

    #[test]
    fn a_partial_write_leaves_only_whole_lines() {
        let store = FullAfter::new(10);
        let mut lines = Lines::new(store.clone(), 1024, 0);
        lines.push(b"abc");
        lines.write_out().unwrap();
        lines.push(b"defgh");
        lines.push(b"ij");
        assert!(lines.write_out().is_err());
        assert!(lines.is_empty());
        assert_eq!(store.bytes(), b"abc\n");
    }
}
