//! Reading an input as a stream: gzip is decompressed on the fly, and NDJSON
//! is parsed line by line, so memory does not grow with the input's size.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;

use super::{load_file, Framing, InputError, InputErrorKind, LoadedFile};
use crate::record::{Origin, Record, RecordSchema};

/// The first two bytes of every gzip member (RFC 1952).
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Capacity of the read buffers: large enough that one read system call
/// brings in many NDJSON lines.
const BUFFER_BYTES: usize = 256 * 1024;

/// Decompresses `bytes` when they start with the gzip magic number, and
/// returns them unchanged otherwise. Concatenated gzip members are read as
/// one stream, as `gunzip` reads them.
///
/// # Errors
///
/// Returns the decoder's error for a truncated or corrupt gzip stream.
pub fn decompress_if_gzip(bytes: &[u8]) -> io::Result<std::borrow::Cow<'_, [u8]>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut decompressed = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut decompressed)?;
    Ok(std::borrow::Cow::Owned(decompressed))
}

/// Reads one input from `reader` and passes each canonical record to
/// `on_record` as soon as it is validated; the returned [`LoadedFile`] has
/// no records, only the FHIR resources, errors and document count.
///
/// Gzip input (detected by its magic number, whatever the name) is
/// decompressed while it is read. NDJSON is parsed one line at a time, so
/// only one line is held in memory. Other framings need the whole document
/// and are read into memory first, then loaded as [`load_file`] does.
pub fn load_reader(
    name: Arc<str>,
    reader: impl Read,
    framing: Framing,
    schema: &RecordSchema,
    on_record: &mut dyn FnMut(Record),
) -> LoadedFile {
    let mut buffered = BufReader::with_capacity(BUFFER_BYTES, reader);
    let is_gzip = match buffered.fill_buf() {
        Ok(head) => head.starts_with(&GZIP_MAGIC),
        Err(error) => return io_error(&name, &error),
    };
    if is_gzip {
        let decoder = BufReader::with_capacity(BUFFER_BYTES, MultiGzDecoder::new(buffered));
        load_plain(name, decoder, framing, schema, on_record)
    } else {
        load_plain(name, buffered, framing, schema, on_record)
    }
}

fn load_plain(
    name: Arc<str>,
    reader: impl BufRead,
    framing: Framing,
    schema: &RecordSchema,
    on_record: &mut dyn FnMut(Record),
) -> LoadedFile {
    let mut loaded = LoadedFile::default();
    for document in Documents::new(name.clone(), reader, framing) {
        let mut part = load_document(&name, document, schema);
        loaded.documents += part.documents;
        part.records.drain(..).for_each(&mut *on_record);
        loaded.fhir.append(&mut part.fhir);
        loaded.errors.append(&mut part.errors);
    }
    loaded
}

/// A line as read: its 1-based number, byte offset, and bytes with the
/// line ending.
type RawLine = (usize, usize, Vec<u8>);

/// One unparsed document of an input, as [`Documents`] reads it.
#[derive(Debug)]
pub enum Document {
    /// One non-blank NDJSON line, without its line ending (and without the
    /// byte order mark on line 1). `number` is 1-based; `offset` is the
    /// byte offset of the line in the (decompressed) input.
    Line {
        number: usize,
        offset: u64,
        text: String,
    },
    /// A whole input that is not NDJSON: one JSON document (a record, an
    /// array of records, a FHIR resource or Bundle), already decompressed.
    Whole { bytes: Vec<u8>, framing: Framing },
    /// A problem met while reading, such as an invalid UTF-8 line or a
    /// truncated gzip stream. Reading goes on after it when it can.
    Error(InputError),
}

/// Reads an input as a sequence of [`Document`]s without parsing them, so
/// that parsing and checking can be spread over threads while the input
/// is still being read.
///
/// NDJSON is read one line at a time, so memory stays flat however long the
/// input is. Any other input is read whole. With [`Framing::Detect`] the
/// first lines decide, as for a whole file: NDJSON when the first non-blank
/// line is a complete JSON value and another non-blank line follows.
pub struct Documents<R> {
    name: Arc<str>,
    reader: R,
    framing: Framing,
    /// Lines read ahead to detect the framing, and not yet returned.
    pending: std::collections::VecDeque<RawLine>,
    number: usize,
    offset: usize,
    /// Non-blank lines returned or queued.
    documents: usize,
    errors: usize,
    done: bool,
    /// An error that ends the input before anything is read.
    failed: Option<InputError>,
    gzip: bool,
}

impl<R: BufRead> Documents<R> {
    /// Reads `reader`, which is already decompressed, framed as `framing`.
    pub fn new(name: Arc<str>, reader: R, framing: Framing) -> Self {
        Documents {
            name,
            reader,
            framing,
            pending: std::collections::VecDeque::new(),
            number: 0,
            offset: 0,
            documents: 0,
            errors: 0,
            done: false,
            failed: None,
            gzip: false,
        }
    }

    /// True when the input is gzip, decompressed while it is read.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Reads the next raw line: its number, byte offset and bytes with the
    /// line ending. `Ok(None)` at the end of input.
    fn raw_line(&mut self) -> Result<Option<RawLine>, Box<InputError>> {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => Ok(None),
            Ok(read) => {
                self.number += 1;
                let offset = self.offset;
                self.offset += read;
                Ok(Some((self.number, offset, line)))
            }
            Err(error) => {
                let at = Origin::new(self.name.clone(), Some(self.number + 1), "");
                Err(Box::new(read_error(at, &error)))
            }
        }
    }

    /// Decides [`Framing::Detect`] by reading up to the second non-blank
    /// line, which stays queued.
    fn detect(&mut self) -> Result<Framing, Box<InputError>> {
        let mut complete_first = None;
        while let Some(line) = self.raw_line()? {
            let blank = line.2.iter().all(|b| b.is_ascii_whitespace())
                || (line.0 == 1
                    && line
                        .2
                        .strip_prefix(b"\xef\xbb\xbf")
                        .is_some_and(|rest| rest.iter().all(|b| b.is_ascii_whitespace())));
            if blank {
                self.pending.push_back(line);
                continue;
            }
            match complete_first {
                None => {
                    let body = line.2.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&line.2);
                    let complete = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
                    self.pending.push_back(line);
                    if !complete {
                        return Ok(Framing::Json);
                    }
                    complete_first = Some(true);
                }
                Some(_) => {
                    self.pending.push_back(line);
                    return Ok(Framing::Ndjson);
                }
            }
        }
        Ok(Framing::Json)
    }

    /// Reads the rest of the input as one document.
    fn whole(&mut self, framing: Framing) -> Document {
        let mut bytes: Vec<u8> = self
            .pending
            .drain(..)
            .flat_map(|(_, _, line)| line)
            .collect();
        if let Err(error) = self.reader.read_to_end(&mut bytes) {
            return Document::Error(read_error(Origin::new(self.name.clone(), None, ""), &error));
        }
        self.documents += 1;
        Document::Whole { bytes, framing }
    }

    fn next_line(&mut self) -> Option<Document> {
        loop {
            let (number, offset, line) = match self.pending.pop_front() {
                Some(line) => line,
                None => match self.raw_line() {
                    Ok(Some(line)) => line,
                    Ok(None) => return None,
                    Err(error) => {
                        self.done = true;
                        self.errors += 1;
                        return Some(Document::Error(*error));
                    }
                },
            };
            let mut bytes = line.as_slice();
            if number == 1 {
                bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(error) => {
                    let (problem, stop) = utf8_error(&self.name, number, offset, bytes, &error);
                    self.done = stop;
                    self.errors += 1;
                    return Some(Document::Error(problem));
                }
            };
            let text = text.strip_suffix('\n').unwrap_or(text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            if text.trim().is_empty() {
                continue;
            }
            self.documents += 1;
            // The line's text starts after the byte order mark, if any.
            let bom = line.len() - bytes.len();
            return Some(Document::Line {
                number,
                offset: (offset + bom) as u64,
                text: text.to_string(),
            });
        }
    }
}

impl<R: BufRead> Iterator for Documents<R> {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        if self.done {
            return None;
        }
        if let Some(error) = self.failed.take() {
            self.done = true;
            return Some(Document::Error(error));
        }
        if self.framing == Framing::Detect {
            self.framing = match self.detect() {
                Ok(framing) => framing,
                Err(error) => {
                    self.done = true;
                    return Some(Document::Error(*error));
                }
            };
        }
        if self.framing != Framing::Ndjson {
            self.done = true;
            return Some(self.whole(self.framing));
        }
        match self.next_line() {
            Some(document) => Some(document),
            None => {
                self.done = true;
                (self.documents == 0 && self.errors == 0).then(|| {
                    Document::Error(
                        InputError::new(
                            InputErrorKind::Empty,
                            Origin::new(self.name.clone(), None, ""),
                            "the file is empty",
                        )
                        .with_help("check that the export finished writing this file"),
                    )
                })
            }
        }
    }
}

/// Opens `reader` for [`Documents`], decompressing it on the fly when it
/// starts with the gzip magic number, whatever its name.
pub fn documents(
    name: Arc<str>,
    reader: impl Read + Send + 'static,
    framing: Framing,
) -> Documents<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(BUFFER_BYTES, reader);
    let is_gzip = match buffered.fill_buf() {
        Ok(head) => head.starts_with(&GZIP_MAGIC),
        Err(error) => {
            let at = Origin::new(name.clone(), None, "");
            let empty: Box<dyn BufRead + Send> = Box::new(io::empty());
            let mut documents = Documents::new(name, empty, framing);
            documents.failed = Some(read_error(at, &error));
            return documents;
        }
    };
    let reader: Box<dyn BufRead + Send> = if is_gzip {
        Box::new(BufReader::with_capacity(
            BUFFER_BYTES,
            MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    let mut documents = Documents::new(name, reader, framing);
    documents.gzip = is_gzip;
    documents
}

/// Parses and validates one NDJSON line (1-based `number`), as
/// [`load_document`] does for a [`Document::Line`].
pub fn load_ndjson_line(
    name: &Arc<str>,
    number: usize,
    text: &str,
    schema: &RecordSchema,
) -> LoadedFile {
    let mut loaded = LoadedFile {
        documents: 1,
        ..LoadedFile::default()
    };
    super::load_line(name, number, text, schema, &mut loaded);
    loaded
}

/// Parses and validates one document read by [`Documents`]. A whole
/// document is loaded as [`load_file`] loads a file.
pub fn load_document(name: &Arc<str>, document: Document, schema: &RecordSchema) -> LoadedFile {
    match document {
        Document::Line { number, text, .. } => load_ndjson_line(name, number, &text, schema),
        Document::Whole { bytes, framing } => load_file(name.clone(), &bytes, framing, schema),
        Document::Error(error) => LoadedFile {
            errors: vec![error],
            ..LoadedFile::default()
        },
    }
}

/// Reports a line that is not UTF-8, and whether reading must stop: a
/// UTF-16 byte order mark on the first line means the whole file is UTF-16.
/// Any other invalid line is reported and skipped.
fn utf8_error(
    name: &Arc<str>,
    number: usize,
    line_offset: usize,
    bytes: &[u8],
    error: &std::str::Utf8Error,
) -> (InputError, bool) {
    if number == 1 && (bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff])) {
        let file_origin = Origin::new(name.clone(), None, "");
        return (
            InputError::new(InputErrorKind::InvalidUtf8, file_origin, "the file is UTF-16 text; claimlint reads UTF-8")
                .with_help("re-export the file as UTF-8, or convert it, for example with `iconv -f UTF-16 -t UTF-8`"),
            true,
        );
    }
    let column = error.valid_up_to() + 1;
    (
        InputError::new(
            InputErrorKind::InvalidUtf8,
            Origin::new(name.clone(), Some(number), ""),
            format!(
                "invalid UTF-8 at byte {} (line {number}, column {column}); the line is not checked",
                line_offset + error.valid_up_to()
            ),
        )
        .with_help("re-export the file as UTF-8; the other lines are still checked"),
        false,
    )
}

fn io_error(name: &Arc<str>, error: &io::Error) -> LoadedFile {
    LoadedFile {
        errors: vec![read_error(Origin::new(name.clone(), None, ""), error)],
        ..LoadedFile::default()
    }
}

/// Reports a read failure; a failure inside a gzip stream is reported as
/// corrupt compressed data.
fn read_error(origin: Origin, error: &io::Error) -> InputError {
    match error.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => InputError::new(
            InputErrorKind::Compressed,
            origin,
            format!("cannot decompress: {error}"),
        )
        .with_help("the gzip data is truncated or corrupt; check that the export finished writing this file"),
        _ => InputError::new(InputErrorKind::Io, origin, format!("cannot read: {error}"))
            .with_help("check the file's permissions and the device it is on"),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::io::Write;
    use std::rc::Rc;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    const RECORD: &str = r#"{"record_type":"claimlint.encounter/v1","patient":{"id":"p1"},"encounter":{"id":"e1","date_of_service":"2026-03-03"}}"#;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn stream(name: &str, bytes: &[u8]) -> (Vec<Record>, LoadedFile) {
        let mut records = Vec::new();
        let loaded = load_reader(
            Arc::from(name),
            bytes,
            Framing::from_path(name),
            &RecordSchema::new(),
            &mut |r| records.push(r),
        );
        (records, loaded)
    }

    fn record_with_id(id: usize) -> String {
        RECORD.replace(r#""id":"e1""#, &format!(r#""id":"e{id}""#))
    }

    #[test]
    fn ndjson_stream_matches_whole_file_loading() {
        let text = format!(
            "\u{feff}{RECORD}\r\n\r\n{{\"broken\n{}\n{{\"hello\": 1}}",
            record_with_id(2)
        );
        let (records, loaded) = stream("a.ndjson", text.as_bytes());
        let whole = load_file(
            Arc::from("a.ndjson"),
            text.as_bytes(),
            Framing::Ndjson,
            &RecordSchema::new(),
        );

        assert!(loaded.records.is_empty(), "records are passed on, not kept");
        assert_eq!(records.len(), whole.records.len());
        for (streamed, loaded) in records.iter().zip(&whole.records) {
            assert_eq!(streamed.id, loaded.id);
            assert_eq!(streamed.origin, loaded.origin);
            assert_eq!(streamed.value, loaded.value);
        }
        assert_eq!(loaded.errors, whole.errors);
        assert_eq!(loaded.documents, whole.documents);
        assert_eq!(records[1].origin.line, Some(4));
    }

    #[test]
    fn gzip_ndjson_is_decompressed_while_read() {
        let text = format!("{RECORD}\n{}\n", record_with_id(2));
        let (records, loaded) = stream("a.ndjson.gz", &gzip(text.as_bytes()));
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].origin.line, Some(2));
    }

    #[test]
    fn gzip_is_detected_whatever_the_name() {
        let (records, loaded) = stream("a.ndjson", &gzip(RECORD.as_bytes()));
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(records.len(), 1);
    }

    #[test]
    fn gzip_json_file_is_decompressed() {
        let array = format!("[{RECORD},{}]", record_with_id(2));
        let loaded = load_file(
            Arc::from("a.json.gz"),
            &gzip(array.as_bytes()),
            Framing::from_path("a.json.gz"),
            &RecordSchema::new(),
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.records.len(), 2);

        let (records, streamed) = stream("a.json.gz", &gzip(array.as_bytes()));
        assert!(streamed.errors.is_empty(), "{:?}", streamed.errors);
        assert_eq!(records.len(), 2);
    }

    #[test]
    fn concatenated_gzip_members_are_one_stream() {
        let mut bytes = gzip(format!("{RECORD}\n").as_bytes());
        bytes.extend(gzip(format!("{}\n", record_with_id(2)).as_bytes()));
        let (records, loaded) = stream("a.ndjson.gz", &bytes);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(records.len(), 2);
    }

    #[test]
    fn truncated_gzip_keeps_the_lines_before() {
        let text: String = (0..200)
            .map(|i| format!("{}\n", record_with_id(i)))
            .collect();
        let compressed = gzip(text.as_bytes());
        let (records, loaded) = stream("a.ndjson.gz", &compressed[..compressed.len() - 20]);
        assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
        assert_eq!(loaded.errors[0].kind, InputErrorKind::Compressed);
        assert!(!records.is_empty());
        assert!(records.len() < 200);
    }

    #[test]
    fn invalid_utf8_line_is_skipped_and_located() {
        let mut bytes = format!("{RECORD}\n").into_bytes();
        bytes.extend_from_slice(b"{\"a\": \"\xff\"}\n");
        bytes.extend(format!("{}\n", record_with_id(3)).into_bytes());
        let (records, loaded) = stream("a.ndjson", &bytes);
        assert_eq!(records.len(), 2);
        assert_eq!(loaded.errors.len(), 1);
        assert_eq!(loaded.errors[0].kind, InputErrorKind::InvalidUtf8);
        assert_eq!(loaded.errors[0].origin.line, Some(2));
        let expected = format!(
            "invalid UTF-8 at byte {} (line 2, column 8); the line is not checked",
            RECORD.len() + 8
        );
        assert_eq!(loaded.errors[0].message, expected);
    }

    #[test]
    fn utf16_ndjson_stops_with_one_error() {
        let (records, loaded) = stream("a.ndjson", &[0xff, 0xfe, b'{', 0, b'}', 0, b'\n', 0]);
        assert!(records.is_empty());
        assert_eq!(loaded.errors.len(), 1);
        assert_eq!(
            loaded.errors[0].message,
            "the file is UTF-16 text; claimlint reads UTF-8"
        );
    }

    #[test]
    fn blank_ndjson_stream_is_empty() {
        let (_, loaded) = stream("a.ndjson", b"\n \r\n");
        assert_eq!(loaded.errors.len(), 1);
        assert_eq!(loaded.errors[0].kind, InputErrorKind::Empty);
    }

    #[test]
    fn gz_suffix_keeps_the_framing() {
        assert_eq!(Framing::from_path("batch.NDJSON.gz"), Framing::Ndjson);
        assert_eq!(Framing::from_path("batch.jsonl.gz"), Framing::Ndjson);
        assert_eq!(Framing::from_path("record.json.gz"), Framing::Json);
        assert_eq!(Framing::from_path("record.gz"), Framing::Detect);
    }

    /// A reader that counts the bytes handed out.
    struct Counting<R> {
        inner: R,
        read: Rc<Cell<usize>>,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let read = self.inner.read(buf)?;
            self.read.set(self.read.get() + read);
            Ok(read)
        }
    }

    #[test]
    fn ndjson_records_arrive_before_the_end_of_input() {
        let text: String = (0..20_000)
            .map(|i| format!("{}\n", record_with_id(i)))
            .collect();
        let read = Rc::new(Cell::new(0));
        let reader = Counting {
            inner: text.as_bytes(),
            read: read.clone(),
        };
        let mut read_at_first_record = None;
        let mut count = 0;
        load_reader(
            Arc::from("a.ndjson"),
            reader,
            Framing::Ndjson,
            &RecordSchema::new(),
            &mut |_| {
                read_at_first_record.get_or_insert(read.get());
                count += 1;
            },
        );
        assert_eq!(count, 20_000);
        let first = read_at_first_record.unwrap();
        assert!(
            first <= BUFFER_BYTES,
            "{first} bytes read before the first record"
        );
        assert!(first < text.len() / 4);
    }
}
