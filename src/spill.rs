//! An append-only byte store that moves to a temporary file once it grows
//! past a limit, so that a long run keeps what it must remember until the
//! end (patient-month records, rendered findings) out of memory.
//!
//! The temporary file is created with owner-only permissions and is deleted
//! when the store is dropped, also when the process is killed, because it
//! is unlinked as soon as it is created. Its contents can include patient
//! data, which never leaves this file and the process.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

/// Bytes kept in memory before the store moves to a temporary file.
pub const DEFAULT_MEMORY_LIMIT: usize = 4 * 1024 * 1024;

/// The position and length of one stored entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    offset: u64,
    len: u32,
}

impl Slot {
    /// Rebuilds a slot from its parts, as [`Slot::offset`] and
    /// [`Slot::len`] return them. Reading a slot that did not come from the
    /// store is an error, not undefined behaviour.
    pub fn new(offset: u64, len: u32) -> Slot {
        Slot { offset, len }
    }

    /// Returns the offset where the entry starts in the store.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Length of the entry in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for an empty entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The store; see the module documentation.
pub struct Spill {
    memory: Vec<u8>,
    limit: usize,
    file: Option<BufWriter<File>>,
    /// Bytes written to the file so far.
    written: u64,
    /// The file position is at the end of the data; reading moves it.
    at_end: bool,
}

impl Default for Spill {
    fn default() -> Self {
        Spill::new(DEFAULT_MEMORY_LIMIT)
    }
}

impl Spill {
    /// Creates a store that keeps up to `limit` bytes in memory.
    pub fn new(limit: usize) -> Self {
        Spill {
            memory: Vec::new(),
            limit,
            file: None,
            written: 0,
            at_end: true,
        }
    }

    /// True once the store has moved to a temporary file.
    pub fn is_on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// Appends an entry and returns where it is.
    ///
    /// # Errors
    ///
    /// Fails when the entry is 4 GiB or longer, or when the temporary file
    /// cannot be created or written (a full disk, say).
    pub fn push(&mut self, bytes: &[u8]) -> io::Result<Slot> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "entry of 4 GiB or more"))?;
        if self.file.is_none() && self.memory.len() + bytes.len() > self.limit {
            let mut file = BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?);
            file.write_all(&self.memory)?;
            self.written = self.memory.len() as u64;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            None => {
                let offset = self.memory.len() as u64;
                self.memory.extend_from_slice(bytes);
                Ok(Slot { offset, len })
            }
            Some(file) => {
                if !self.at_end {
                    file.seek(SeekFrom::End(0))?;
                    self.at_end = true;
                }
                file.write_all(bytes)?;
                let offset = self.written;
                self.written += u64::from(len);
                Ok(Slot { offset, len })
            }
        }
    }

    /// Reads the entry at `slot` into `buffer`, replacing its contents.
    ///
    /// # Errors
    ///
    /// Fails when the temporary file cannot be read, or when `slot` did not
    /// come from this store.
    pub fn read_into(&mut self, slot: Slot, buffer: &mut Vec<u8>) -> io::Result<()> {
        buffer.clear();
        match &mut self.file {
            None => {
                let start = usize::try_from(slot.offset).unwrap_or(usize::MAX);
                let bytes = start
                    .checked_add(slot.len())
                    .and_then(|end| self.memory.get(start..end))
                    .ok_or_else(|| {
                        io::Error::new(io::ErrorKind::InvalidInput, "slot from another store")
                    })?;
                buffer.extend_from_slice(bytes);
                Ok(())
            }
            Some(file) => {
                file.flush()?;
                let inner = file.get_mut();
                inner.seek(SeekFrom::Start(slot.offset))?;
                self.at_end = false;
                buffer.resize(slot.len(), 0);
                inner.read_exact(buffer)
            }
        }
    }

    /// Reads the entry at `slot`.
    ///
    /// # Errors
    ///
    /// As [`Spill::read_into`].
    pub fn read(&mut self, slot: Slot) -> io::Result<Vec<u8>> {
        let mut buffer = Vec::new();
        self.read_into(slot, &mut buffer)?;
        Ok(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_in_memory_and_on_disk() {
        let mut spill = Spill::new(10);
        let a = spill.push(b"hello").unwrap();
        assert!(!spill.is_on_disk());
        let b = spill.push(b"world!").unwrap();
        assert!(spill.is_on_disk(), "11 bytes pass the 10-byte limit");
        assert_eq!(spill.read(b).unwrap(), b"world!");
        // Appending after a read still appends at the end.
        let c = spill.push(b"").unwrap();
        let d = spill.push(b"again").unwrap();
        assert_eq!(spill.read(a).unwrap(), b"hello");
        assert_eq!(spill.read(c).unwrap(), b"");
        assert_eq!(spill.read(d).unwrap(), b"again");
        assert_eq!(spill.read(b).unwrap(), b"world!");
    }

    #[test]
    fn read_of_foreign_slot_fails() {
        let mut big = Spill::new(100);
        big.push(&[0; 50]).unwrap();
        let far = big.push(b"x").unwrap();
        let mut small = Spill::new(100);
        small.push(b"y").unwrap();
        assert!(small.read(far).is_err());
    }
}
