//! XML templates. Placeholders stand in text, in attribute values and in CDATA sections; an
//! element whose whole content is one placeholder (or a mapped field) gets the token's value,
//! nested tokens as child elements. The format is parsed (quick-xml) into a tree once, and the
//! body is written from the tree with every value escaped for where it goes: data can never
//! change the document's structure.

use super::{placeholders, substitute, text_of, tokens, Checked};
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
enum Node {
    Element {
        name: String,
        attrs: Vec<(String, String)>,
        children: Vec<Node>,
    },
    Text(String),
    CData(String),
    /// Comments, processing instructions, the declaration: written back as they were.
    Raw(String),
}

fn utf8(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "format: not UTF-8".to_string())
}

/// Parses a document: one root element, matching tags, attribute values and entities that
/// resolve, no DOCTYPE (a receiver's parser would expand its entities).
fn parse(format: &str) -> Result<Vec<Node>, String> {
    let mut reader = Reader::from_str(format);
    reader.config_mut().check_end_names = true;
    let at = |r: &Reader<&[u8]>| {
        let pos = r.buffer_position() as usize;
        let line = format.as_bytes()[..pos.min(format.len())].iter().filter(|b| **b == b'\n').count() + 1;
        format!("format: not well-formed XML (line {line})")
    };
    // The open elements, innermost last; the top level is `top`.
    let mut open: Vec<Node> = Vec::new();
    let mut top: Vec<Node> = Vec::new();
    let mut roots = 0;
    fn push(open: &mut [Node], top: &mut Vec<Node>, n: Node) {
        match open.last_mut() {
            Some(Node::Element { children, .. }) => children.push(n),
            _ => top.push(n),
        }
    }
    loop {
        let ev = reader.read_event().map_err(|e| format!("{}: {e}", at(&reader)))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if open.is_empty() {
                    roots += 1;
                    if roots > 1 {
                        return Err(format!("{}: more than one root element", at(&reader)));
                    }
                }
                let name = utf8(e.name().as_ref())?;
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|err| format!("{}: {err}", at(&reader)))?;
                    let v = a.unescape_value().map_err(|err| format!("{}: {err}", at(&reader)))?;
                    attrs.push((utf8(a.key.as_ref())?, v.into_owned()));
                }
                let el = Node::Element { name, attrs, children: vec![] };
                if matches!(ev, Event::Start(_)) {
                    open.push(el);
                } else {
                    push(&mut open, &mut top, el);
                }
            }
            Event::End(_) => {
                let el = open.pop().ok_or_else(|| at(&reader))?;
                push(&mut open, &mut top, el);
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| format!("{}: {e}", at(&reader)))?.into_owned();
                if open.is_empty() && !s.trim().is_empty() {
                    return Err(format!("{}: text outside the root element", at(&reader)));
                }
                push(&mut open, &mut top, Node::Text(s));
            }
            Event::CData(c) => {
                if open.is_empty() {
                    return Err(format!("{}: CDATA outside the root element", at(&reader)));
                }
                push(&mut open, &mut top, Node::CData(utf8(&c.into_inner())?));
            }
            Event::Comment(c) => push(&mut open, &mut top, Node::Raw(format!("<!--{}-->", utf8(&c.into_inner())?))),
            Event::PI(p) => push(&mut open, &mut top, Node::Raw(format!("<?{}?>", utf8(&p)?))),
            Event::Decl(d) => push(&mut open, &mut top, Node::Raw(format!("<?{}?>", utf8(&d)?))),
            Event::DocType(_) => return Err(format!("{}: a template cannot declare a DOCTYPE", at(&reader))),
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return Err("format: not well-formed XML: an element is not closed".into());
    }
    if roots == 0 {
        return Err("format: not well-formed XML: no root element".into());
    }
    Ok(top)
}

fn join(path: &str, seg: &str) -> String {
    if path.is_empty() {
        seg.to_string()
    } else {
        format!("{path}.{seg}")
    }
}

/// The one placeholder that is an element's whole content, if it is.
fn whole_content(children: &[Node]) -> Option<&str> {
    match children {
        [Node::Text(t)] | [Node::CData(t)] => {
            let t = t.trim();
            placeholders(t).into_iter().next().filter(|(r, _)| r.start == 0 && r.end == t.len()).map(|(_, n)| n)
        }
        _ => None,
    }
}

/// The fields (elements holding only text, and attributes as `@name`) and tokens of a format.
pub fn check(format: &str) -> Result<Checked, String> {
    fn walk(n: &Node, path: &str, c: &mut Checked) {
        match n {
            Node::Element { name, attrs, children } => {
                let p = join(path, name);
                for (k, v) in attrs {
                    c.fields.push(format!("{p}.@{k}"));
                    c.tokens.extend(placeholders(v).into_iter().map(|(_, n)| n.to_string()));
                }
                if !children.iter().any(|ch| matches!(ch, Node::Element { .. })) {
                    c.fields.push(p.clone());
                }
                for ch in children {
                    walk(ch, &p, c);
                }
            }
            Node::Text(t) | Node::CData(t) => c.tokens.extend(placeholders(t).into_iter().map(|(_, n)| n.to_string())),
            Node::Raw(_) => {}
        }
    }
    let doc = parse(format)?;
    let mut c = Checked { fields: vec![], tokens: vec![] };
    for n in &doc {
        walk(n, "", &mut c);
    }
    c.tokens.sort();
    c.tokens.dedup();
    Ok(c)
}

/// Characters XML 1.0 allows; the others cannot be written at all, so they are dropped.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Text content: escaped, and `\r` written as a reference so that parsers do not turn it into
/// `\n`.
fn text(s: &str) -> String {
    let clean: String = s.chars().filter(|c| allowed(*c)).collect();
    escape(clean.as_str()).replace('\r', "&#13;")
}

/// An attribute value: escaped, with tabs and line ends as references (a parser would turn
/// them into spaces).
fn attr(s: &str) -> String {
    text(s).replace('\n', "&#10;").replace('\t', "&#9;")
}

/// A CDATA section for `s`; a `]]>` inside is split across two sections.
fn cdata(s: &str) -> String {
    let clean: String = s.chars().filter(|c| allowed(*c)).collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

/// An XML name for a nested value's key, or `None` when the key cannot be one.
fn xml_name(k: &str) -> Option<&str> {
    let mut cs = k.chars();
    let first = cs.next()?;
    let ok = (first.is_alphabetic() || first == '_')
        && cs.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !k.to_ascii_lowercase().starts_with("xml");
    ok.then_some(k)
}

/// A token's value as element content: nested values as child elements (an object's keys as
/// element names, `<item key="…">` where a key is no XML name; list items as `<item>`).
fn content(v: Option<&Value>, out: &mut String) {
    match v {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                match xml_name(k) {
                    Some(n) => out.push_str(&format!("<{n}>")),
                    None => out.push_str(&format!("<item key=\"{}\">", attr(k))),
                }
                content(Some(v), out);
                out.push_str(&format!("</{}>", xml_name(k).unwrap_or("item")));
            }
        }
        Some(Value::Array(a)) => {
            for v in a {
                out.push_str("<item>");
                content(Some(v), out);
                out.push_str("</item>");
            }
        }
        other => out.push_str(&text(&text_of(other))),
    }
}

/// The body for `data`; `mapping` replaces the content of each named field (element or
/// attribute) by a token.
pub fn render(format: &str, mapping: &[(String, String)], data: &Map<String, Value>) -> Result<String, String> {
    fn token<'m>(mapping: &'m [(String, String)], path: &str) -> Option<&'m str> {
        mapping.iter().find(|(f, _)| f == path).map(|(_, t)| t.as_str())
    }
    fn write(n: &Node, path: &str, mapping: &[(String, String)], data: &Map<String, Value>, out: &mut String) {
        match n {
            Node::Element { name, attrs, children } => {
                let p = join(path, name);
                out.push('<');
                out.push_str(name);
                for (k, v) in attrs {
                    let value = match token(mapping, &format!("{p}.@{k}")) {
                        Some(t) => text_of(data.get(t)),
                        None => substitute(v, data),
                    };
                    out.push_str(&format!(" {k}=\"{}\"", attr(&value)));
                }
                let whole = token(mapping, &p).or_else(|| whole_content(children));
                if children.is_empty() && whole.is_none() {
                    out.push_str("/>");
                    return;
                }
                out.push('>');
                match whole {
                    Some(t) if tokens::find(t).is_some_and(|t| t.kind == tokens::Kind::Object) => {
                        content(data.get(t), out)
                    }
                    Some(t) => match children.as_slice() {
                        [Node::CData(_)] => out.push_str(&cdata(&text_of(data.get(t)))),
                        _ => out.push_str(&text(&text_of(data.get(t)))),
                    },
                    None => {
                        for ch in children {
                            write(ch, &p, mapping, data, out);
                        }
                    }
                }
                out.push_str(&format!("</{name}>"));
            }
            Node::Text(t) => out.push_str(&text(&substitute(t, data))),
            Node::CData(t) => out.push_str(&cdata(&substitute(t, data))),
            Node::Raw(r) => out.push_str(r),
        }
    }
    let doc = parse(format)?;
    let mut out = String::with_capacity(format.len() * 2);
    for n in &doc {
        write(n, "", mapping, data, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// The text of the first element named `name` and its attribute `a`, as a parser reads them.
    fn read(body: &str, name: &str) -> String {
        let mut r = Reader::from_str(body);
        let mut inside = false;
        let mut s = String::new();
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) if e.name().as_ref() == name.as_bytes() => inside = true,
                Event::End(e) if e.name().as_ref() == name.as_bytes() => return s,
                Event::Text(t) if inside => s.push_str(&t.unescape().unwrap()),
                Event::CData(c) if inside => s.push_str(std::str::from_utf8(&c).unwrap()),
                Event::Eof => panic!("no <{name}> in {body}"),
                _ => {}
            }
        }
    }

    #[test]
    fn hostile_values_stay_text() {
        let f = r#"<?xml version="1.0"?><call id="%callid%"><who>%ani_full_name%</who><note><![CDATA[%ani_city%]]></note><mix>from %ani%!</mix></call>"#;
        let hostile = "a\"b'c</who><x>&amp;]]>\u{0}\u{2028}\r\nz";
        let d = data(json!({"callid": hostile, "ani_full_name": hostile, "ani_city": hostile, "ani": "<&>"}));
        let body = render(f, &[], &d).unwrap();
        check(&body).unwrap();
        let expect: String = hostile.chars().filter(|c| *c != '\u{0}').collect();
        assert_eq!(read(&body, "who"), expect);
        assert_eq!(read(&body, "note"), expect);
        assert_eq!(read(&body, "mix"), "from <&>!");
        assert!(body.starts_with("<?xml version=\"1.0\"?>"));
    }

    #[test]
    fn nested_tokens_become_child_elements() {
        let f = "<call><responses>%prompt_responses%</responses><tags>%tags%</tags><gone>%ani%</gone></call>";
        let d = data(
            json!({"prompt_responses": [{"question": "one", "response": "1"}], "tags": {"Region": "south", "2x": "y"}}),
        );
        let body = render(f, &[], &d).unwrap();
        assert_eq!(
            body,
            "<call><responses><item><question>one</question><response>1</response></item></responses>\
             <tags><Region>south</Region><item key=\"2x\">y</item></tags><gone></gone></call>"
        );
    }

    #[test]
    fn fields_are_elements_with_text_and_attributes() {
        let f = r#"<lead source="web"><first>John</first><last>Doe</last><phone type="cell"/></lead>"#;
        let c = check(f).unwrap();
        assert_eq!(c.fields, ["lead.@source", "lead.first", "lead.last", "lead.phone.@type", "lead.phone"]);
        let m = vec![("lead.first".to_string(), "ani_first_name".to_string()), ("lead.phone".into(), "ani".into())];
        let body = render(f, &m, &data(json!({"ani_first_name": "Fred & co", "ani": "777"}))).unwrap();
        assert_eq!(
            body,
            r#"<lead source="web"><first>Fred &amp; co</first><last>Doe</last><phone type="cell">777</phone></lead>"#
        );
    }

    #[test]
    fn malformed_formats_are_refused() {
        for (f, what) in [
            ("<a><b></a>", "not well-formed"),
            ("<a></a><b/>", "more than one root"),
            ("<a>&nope;</a>", "not well-formed"),
            ("<!DOCTYPE a [<!ENTITY x \"y\">]><a/>", "DOCTYPE"),
            ("text", "outside the root"),
            ("", "no root"),
            ("<a>", "not closed"),
            ("<a x='1' x='2'/>", "not well-formed"),
        ] {
            let e = check(f).unwrap_err();
            assert!(e.starts_with("format:") && e.contains(what), "{f}: {e}");
        }
    }
}
