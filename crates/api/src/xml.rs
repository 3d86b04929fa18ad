//! A small append-only XML writer for query-protocol responses.
//!
//! Text is escaped by hand rather than with `quick_xml::escape`: besides `& < > " '`, a
//! carriage return must be written as `&#xD;`, because XML parsers turn a literal `\r\n`
//! into `\n` and the message body would not round-trip. Responses are flat and built in
//! one pass into one `String`, so no event writer is needed.

/// Appends `text` to `buffer` with XML escaping.
pub fn escape_into(buffer: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, byte) in bytes.iter().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            b'\r' => "&#xD;",
            _ => continue,
        };
        // Every replaced byte is ASCII, so `start..index` is on char boundaries.
        buffer.push_str(&text[start..index]);
        buffer.push_str(replacement);
        start = index + 1;
    }
    buffer.push_str(&text[start..]);
}

/// Builds one XML document.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buffer: String,
}

impl XmlWriter {
    pub fn with_capacity(capacity: usize) -> XmlWriter {
        let mut buffer = String::with_capacity(capacity);
        buffer.push_str("<?xml version=\"1.0\"?>");
        XmlWriter { buffer }
    }

    /// `<tag xmlns="namespace">`
    pub fn open_with_namespace(&mut self, tag: &str, namespace: &str) {
        self.buffer.push('<');
        self.buffer.push_str(tag);
        self.buffer.push_str(" xmlns=\"");
        escape_into(&mut self.buffer, namespace);
        self.buffer.push_str("\">");
    }

    pub fn open(&mut self, tag: &str) {
        self.buffer.push('<');
        self.buffer.push_str(tag);
        self.buffer.push('>');
    }

    pub fn close(&mut self, tag: &str) {
        self.buffer.push_str("</");
        self.buffer.push_str(tag);
        self.buffer.push('>');
    }

    /// `<tag/>`
    pub fn empty(&mut self, tag: &str) {
        self.buffer.push('<');
        self.buffer.push_str(tag);
        self.buffer.push_str("/>");
    }

    /// `<tag>text</tag>`, text escaped.
    pub fn element(&mut self, tag: &str, text: &str) {
        self.open(tag);
        escape_into(&mut self.buffer, text);
        self.close(tag);
    }

    pub fn optional_element(&mut self, tag: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.element(tag, text);
        }
    }

    /// `<tag>number</tag>`
    pub fn number_element(&mut self, tag: &str, number: i64) {
        use std::fmt::Write;
        self.open(tag);
        let _ = write!(self.buffer, "{number}");
        self.close(tag);
    }

    pub fn finish(self) -> String {
        self.buffer
    }
}

/// The query protocol's error document without SQS's `Detail` element (IAM, SNS):
/// `Type`, `Code` and `Message`, then the request id.
pub fn error_document(
    namespace: &str,
    error: &crate::error::WireError,
    request_id: &str,
) -> String {
    let mut xml = XmlWriter::with_capacity(300 + error.message.len());
    xml.open_with_namespace("ErrorResponse", namespace);
    xml.open("Error");
    xml.element("Type", error.fault());
    xml.element("Code", error.query_code);
    xml.element("Message", &error.message);
    xml.close("Error");
    xml.element("RequestId", request_id);
    xml.close("ErrorResponse");
    xml.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn escape_keeps_carriage_returns_and_unicode() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&\"c'\r\nü😀");
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&apos;&#xD;\nü😀");
    }

    #[test]
    fn escaped_text_round_trips_through_an_xml_parser() {
        let text = "line1\r\nline2\r<tag attr=\"x\">&amp;</tag> ✓ \t end";
        let mut writer = XmlWriter::with_capacity(64);
        writer.element("Body", text);
        let document = writer.finish();
        let mut reader = quick_xml::Reader::from_str(&document);
        let mut seen = None;
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Text(t) => {
                    let mut s: String = seen.take().unwrap_or_default();
                    s.push_str(&t.decode().unwrap());
                    seen = Some(s);
                }
                quick_xml::events::Event::GeneralRef(r) => {
                    let mut s: String = seen.take().unwrap_or_default();
                    if let Some(c) = r.resolve_char_ref().unwrap() {
                        s.push(c);
                    } else {
                        let name = r.decode().unwrap();
                        s += quick_xml::escape::resolve_predefined_entity(&name).unwrap();
                    }
                    seen = Some(s);
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(seen.unwrap(), text);
    }
}
