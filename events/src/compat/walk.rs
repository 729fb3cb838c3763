//! The walk over a writer's schema and a reader's in parallel, collecting every place
//! where the reader would reject a value the writer may write.

use std::collections::HashSet;

use serde_json::Value;

use super::finding::{Finding, Issue};
use super::keywords;
use super::mode::{Direction, Policy};
use super::shape::{ANY, Extra, Keyword, Shape, Sub};
use super::types::Types;

/// How deep the walk follows nested schemas before it stops; generated schemas are far
/// shallower.
const MAX_DEPTH: usize = 256;

/// Every finding for data written with `old` and read with `new` (backward), or written
/// with `new` and read with `old` (forward).
pub(super) fn compare(
    old: &Value,
    new: &Value,
    direction: Direction,
    policy: Policy,
) -> Vec<Finding> {
    let (writer, reader) = match direction {
        Direction::Backward => (old, new),
        Direction::Forward => (new, old),
    };
    let mut walk = Walk {
        writer,
        reader,
        direction,
        policy,
        active: HashSet::new(),
        findings: Vec::new(),
    };
    let root = |value| Sub {
        value,
        ptr: String::new(),
    };
    walk.subs(&root(writer), &root(reader));
    walk.findings
}

struct Walk<'a> {
    writer: &'a Value,
    reader: &'a Value,
    direction: Direction,
    policy: Policy,
    /// The pairs of nodes being compared further up, which stops recursive types.
    active: HashSet<(String, String)>,
    findings: Vec<Finding>,
}

/// A lower or upper bound on numbers or lengths.
#[derive(Debug, Clone)]
struct Bound {
    value: f64,
    exclusive: bool,
    ptr: String,
    text: String,
}

impl<'a> Walk<'a> {
    fn push(
        &mut self,
        issue: Issue,
        writer_at: Option<&str>,
        reader_at: Option<&str>,
        detail: String,
    ) {
        self.findings.push(Finding {
            issue,
            writer_at: writer_at.map(str::to_owned),
            reader_at: reader_at.map(str::to_owned),
            detail,
        });
    }

    /// `writer` and `reader` ordered as (old, new).
    fn old_new<T>(&self, writer: T, reader: T) -> (T, T) {
        match self.direction {
            Direction::Backward => (writer, reader),
            Direction::Forward => (reader, writer),
        }
    }

    /// `"<old> became <new>"`, `"<new> added"` or `"<old> removed"`.
    fn became(&self, writer: Option<String>, reader: Option<String>) -> String {
        match self.old_new(writer, reader) {
            (Some(old), Some(new)) => format!("{old} became {new}"),
            (None, Some(new)) => format!("{new} added"),
            (Some(old), None) => format!("{old} removed"),
            (None, None) => "changed".to_owned(),
        }
    }

    /// Runs `f` and returns what it found instead of keeping it: whether one member of a
    /// union accepts another.
    fn trial(&mut self, f: impl FnOnce(&mut Self)) -> Vec<Finding> {
        let kept = std::mem::take(&mut self.findings);
        f(self);
        std::mem::replace(&mut self.findings, kept)
    }

    fn subs(&mut self, writer: &Sub<'a>, reader: &Sub<'a>) {
        let key = (writer.ptr.clone(), reader.ptr.clone());
        if self.active.len() >= MAX_DEPTH || !self.active.insert(key.clone()) {
            return;
        }
        let w = Shape::of(self.writer, writer);
        let r = Shape::of(self.reader, reader);
        self.shapes(&w, &r);
        self.active.remove(&key);
    }

    fn shapes(&mut self, w: &Shape<'a>, r: &Shape<'a>) {
        if w.never || r.is_any() {
            return;
        }
        if r.never {
            let detail = self.became(Some("a schema".into()), Some("`false`".into()));
            self.push(Issue::TypeDisjoint, Some(&w.ptr), Some(&r.ptr), detail);
            return;
        }
        if let Some(members) = &w.variants {
            self.writer_union(w, members, r);
        } else if let Some(members) = &r.variants {
            self.reader_union(w, r, members);
        } else {
            self.plain(w, r);
        }
    }

    /// Every member of the writer's union must be read by the reader (or by one member of
    /// the reader's union).
    fn writer_union(&mut self, w: &Shape<'a>, members: &[Shape<'a>], r: &Shape<'a>) {
        let readers: Vec<&Shape<'a>> = match &r.variants {
            Some(reader_members) => reader_members.iter().collect(),
            None => vec![r],
        };
        let overlap =
            |a: &Shape<'a>, b: &Shape<'a>| a.effective_types().overlaps(b.effective_types());
        if !members
            .iter()
            .any(|m| readers.iter().any(|rm| overlap(m, rm)))
        {
            let detail = self.became(
                Some(w.effective_types().describe()),
                Some(r.effective_types().describe()),
            );
            self.push(Issue::TypeDisjoint, Some(&w.ptr), Some(&r.ptr), detail);
            return;
        }
        let reader_tagged = readers.iter().any(|rm| rm.tag().is_some());
        for member in members.iter().filter(|m| !m.never) {
            if readers
                .iter()
                .any(|rm| self.trial(|walk| walk.shapes(member, rm)).is_empty())
            {
                continue;
            }
            if let Some(tag) = member.tag() {
                if let Some(rm) = readers.iter().find(|rm| rm.tag().as_ref() == Some(&tag)) {
                    self.shapes(member, rm);
                    continue;
                }
                if reader_tagged {
                    let variant = format!("variant {tag}");
                    let detail = match self.direction {
                        Direction::Backward => format!("{variant} removed"),
                        Direction::Forward => format!("{variant} added"),
                    };
                    self.push(Issue::ValueUnknown, Some(&member.ptr), None, detail);
                    continue;
                }
            }
            self.member_to_closest(member, &readers, r);
        }
    }

    /// The writer's node must be read by one member of the reader's union.
    fn reader_union(&mut self, w: &Shape<'a>, r: &Shape<'a>, members: &[Shape<'a>]) {
        if members
            .iter()
            .any(|rm| self.trial(|walk| walk.shapes(w, rm)).is_empty())
        {
            return;
        }
        let types = w.effective_types();
        if types.each().nth(1).is_some() {
            // `["string", "null"]` read by `anyOf: [{string}, {null}]`: each type may find
            // its own member.
            let parts: Vec<Shape<'a>> = types.each().map(|t| w.restricted_to(t)).collect();
            self.writer_union(w, &parts, r);
            return;
        }
        let readers: Vec<&Shape<'a>> = members.iter().collect();
        if let Some(tag) = w.tag()
            && let Some(rm) = readers.iter().find(|rm| rm.tag().as_ref() == Some(&tag))
        {
            self.shapes(w, rm);
            return;
        }
        self.member_to_closest(w, &readers, r);
    }

    /// Compares `w` with the reader member that reads it best: the one of the same
    /// definition, else the one of overlapping type with the fewest findings.
    fn member_to_closest(&mut self, w: &Shape<'a>, readers: &[&Shape<'a>], r: &Shape<'a>) {
        if let Some(name) = &w.ref_name
            && let Some(rm) = readers.iter().find(|rm| rm.ref_name.as_ref() == Some(name))
        {
            self.shapes(w, rm);
            return;
        }
        let types = w.effective_types();
        let mut best: Option<(usize, &Shape<'a>)> = None;
        for rm in readers
            .iter()
            .filter(|rm| rm.effective_types().overlaps(types))
        {
            let count = self.trial(|walk| walk.shapes(w, rm)).len();
            if best.is_none_or(|(fewest, _)| count < fewest) {
                best = Some((count, rm));
            }
        }
        match best {
            Some((_, rm)) => self.shapes(w, rm),
            None => {
                // This member's type is not read at all, while others are.
                let (written, read) = (types.describe(), r.effective_types().describe());
                let detail = match self.direction {
                    Direction::Backward => format!("{written} no longer accepted (now {read})"),
                    Direction::Forward => format!("{written} now accepted (was {read})"),
                };
                let issue = Issue::TypeNotAccepted { fraction: false };
                self.push(issue, Some(&w.ptr), Some(&r.ptr), detail);
            }
        }
    }

    fn plain(&mut self, w: &Shape<'a>, r: &Shape<'a>) {
        let (wt, rt) = (w.effective_types(), r.effective_types());
        let missing = wt.minus(rt);
        if !missing.is_empty() {
            let detail = self.became(Some(wt.describe()), Some(rt.describe()));
            if !wt.overlaps(rt) {
                self.push(Issue::TypeDisjoint, Some(&w.ptr), Some(&r.ptr), detail);
                return;
            }
            let fraction = missing == Types::NUMBER && rt.contains(Types::INTEGER);
            let issue = Issue::TypeNotAccepted { fraction };
            self.push(issue, Some(&w.ptr), Some(&r.ptr), detail);
        }
        if let Some(read) = &r.values {
            self.values(w, r, read, rt);
            return;
        }
        if w.values.is_some() {
            // A finite set of values of accepted types: bounds are not worth comparing.
            return;
        }
        let common = wt.intersect(rt);
        if common.overlaps(Types::NUMBER) {
            self.numbers(w, r, wt.integers_only() && rt.integers_only());
        }
        if common.overlaps(Types::STRING) {
            self.strings(w, r);
        }
        if common.overlaps(Types::ARRAY) {
            self.arrays(w, r);
        }
        if common.overlaps(Types::OBJECT) {
            self.objects(w, r);
        }
        self.unchecked(w, r);
    }

    fn values(&mut self, w: &Shape<'a>, r: &Shape<'a>, read: &[Keyword<'a>], rt: Types) {
        let Some(written) = &w.values else {
            let list = list_values(read);
            let free = format!("any {}", w.effective_types().intersect(rt).describe());
            let detail = self.became(Some(free), Some(format!("one of {list}")));
            let issue = Issue::TypeNotAccepted { fraction: false };
            self.push(issue, Some(&w.ptr), Some(&r.values_ptr), detail);
            return;
        };
        for value in written {
            // Values of a type the reader rejects were reported with the type.
            if !Types::of_value(value.value).overlaps(rt)
                || read
                    .iter()
                    .any(|known| same_value(known.value, value.value))
            {
                continue;
            }
            let detail = match self.direction {
                Direction::Backward => format!("value {} removed", value.value),
                Direction::Forward => format!("value {} added", value.value),
            };
            self.push(Issue::ValueUnknown, Some(&value.ptr), None, detail);
        }
    }

    fn numbers(&mut self, w: &Shape<'a>, r: &Shape<'a>, integers: bool) {
        let (wl, rl) = (lower(w, integers), lower(r, integers));
        if let Some(reader) = &rl
            && !covers(reader, wl.as_ref(), |a, b| a < b)
        {
            self.bound(wl, rl);
        }
        let (wu, ru) = (upper(w, integers), upper(r, integers));
        if let Some(reader) = &ru
            && !covers(reader, wu.as_ref(), |a, b| a > b)
        {
            self.bound(wu, ru);
        }
        if let Some(reader) = r.bounds.get("multipleOf")
            && let Some(step) = reader.value.as_f64()
        {
            let writer = w.bounds.get("multipleOf");
            let fits = writer
                .and_then(|w| w.value.as_f64())
                .is_some_and(|ws| step > 0.0 && ((ws / step).round() * step - ws).abs() < 1e-9);
            if !fits {
                let text = |k: &Keyword<'_>| format!("multipleOf {}", k.value);
                let detail = self.became(writer.map(text), Some(text(reader)));
                self.push(
                    Issue::OutsideBound,
                    writer.map(|k| k.ptr.as_str()),
                    Some(&reader.ptr),
                    detail,
                );
            }
        }
    }

    fn strings(&mut self, w: &Shape<'a>, r: &Shape<'a>) {
        self.lengths(w, r, "minLength", "maxLength");
        let (wp, rp) = (w.bounds.get("pattern"), r.bounds.get("pattern"));
        if let Some(reader) = rp {
            let text = |k: &Keyword<'_>| format!("pattern {}", k.value);
            match wp {
                Some(writer) if writer.value == reader.value => {}
                Some(writer) => {
                    let detail = self.became(Some(text(writer)), Some(text(reader)));
                    self.push(
                        Issue::PatternDiffers,
                        Some(&writer.ptr),
                        Some(&reader.ptr),
                        detail,
                    );
                }
                None => {
                    let detail = self.became(None, Some(text(reader)));
                    self.push(Issue::OutsideBound, None, Some(&reader.ptr), detail);
                }
            }
        }
        let string_format = |s: &Shape<'a>| {
            s.bounds
                .get("format")
                .filter(|k| {
                    k.value
                        .as_str()
                        .is_some_and(|f| !keywords::is_numeric_format(f))
                })
                .cloned()
        };
        if let Some(reader) = string_format(r) {
            let writer = string_format(w);
            if writer.as_ref().is_none_or(|wf| wf.value != reader.value) {
                let text = |k: &Keyword<'_>| format!("format {}", k.value);
                let detail = self.became(writer.as_ref().map(text), Some(text(&reader)));
                let writer_at = writer.as_ref().map(|k| k.ptr.as_str());
                self.push(Issue::FormatDiffers, writer_at, Some(&reader.ptr), detail);
            }
        }
    }

    fn arrays(&mut self, w: &Shape<'a>, r: &Shape<'a>) {
        let any = |s: &Shape<'a>| Sub {
            value: &ANY,
            ptr: s.ptr.clone(),
        };
        let positions = w
            .prefix_items
            .as_ref()
            .map_or(0, Vec::len)
            .max(r.prefix_items.as_ref().map_or(0, Vec::len));
        for i in 0..positions {
            let at = |s: &Shape<'a>| {
                s.prefix_items
                    .as_ref()
                    .and_then(|p| p.get(i))
                    .or(s.items.as_ref())
                    .cloned()
                    .unwrap_or_else(|| any(s))
            };
            self.subs(&at(w), &at(r));
        }
        if let Some(reader) = &r.items {
            let writer = w.items.clone().unwrap_or_else(|| any(w));
            self.subs(&writer, reader);
        }
        self.lengths(w, r, "minItems", "maxItems");
        let unique = |s: &Shape<'a>| {
            s.bounds
                .get("uniqueItems")
                .is_some_and(|k| k.value == &Value::Bool(true))
        };
        if unique(r)
            && !unique(w)
            && let Some(reader) = r.bounds.get("uniqueItems")
        {
            let detail = self.became(None, Some("uniqueItems".into()));
            self.push(Issue::OutsideBound, None, Some(&reader.ptr), detail);
        }
    }

    fn objects(&mut self, w: &Shape<'a>, r: &Shape<'a>) {
        let mut names: Vec<&'a str> = w.properties.keys().copied().collect();
        names.extend(r.properties.keys().copied());
        names.extend(r.required.iter().copied());
        names.sort_unstable();
        names.dedup();
        for name in names {
            self.property(w, r, name);
        }
        match (&w.extra, &r.extra) {
            (_, Extra::Open { .. }) | (Extra::Closed { .. }, _) => {}
            (Extra::Open { .. } | Extra::Schema(_), Extra::Closed { ptr: closed }) => {
                let writer_at = match &w.extra {
                    Extra::Open { ptr: Some(ptr) } | Extra::Schema(Sub { ptr, .. }) => ptr.clone(),
                    _ => w.ptr.clone(),
                };
                let detail = match self.direction {
                    Direction::Backward => "the object no longer accepts unknown properties",
                    Direction::Forward => "the object now accepts unknown properties",
                };
                self.push(
                    Issue::ObjectClosed,
                    Some(&writer_at),
                    Some(closed),
                    detail.into(),
                );
            }
            (Extra::Open { .. }, Extra::Schema(reader)) => self.subs(
                &Sub {
                    value: &ANY,
                    ptr: w.ptr.clone(),
                },
                reader,
            ),
            (Extra::Schema(writer), Extra::Schema(reader)) => self.subs(writer, reader),
        }
        self.lengths(w, r, "minProperties", "maxProperties");
    }

    fn property(&mut self, w: &Shape<'a>, r: &Shape<'a>, name: &str) {
        let shown = format!("property `{name}`");
        let reader_needs = r.required.contains(name)
            && !r
                .properties
                .get(name)
                .is_some_and(|p| Shape::of(self.reader, p).has_default);
        match (w.properties.get(name), r.properties.get(name)) {
            (Some(writer), Some(reader)) => {
                if reader_needs && !w.required.contains(name) {
                    let detail = match self.direction {
                        Direction::Backward => format!("{shown} became required"),
                        Direction::Forward => format!("{shown} became optional"),
                    };
                    let issue = Issue::PropertyMayBeMissing;
                    self.push(issue, Some(&writer.ptr), Some(&reader.ptr), detail);
                }
                self.subs(writer, reader);
            }
            (Some(writer), None) => {
                if writer.value == &Value::Bool(false) {
                    return;
                }
                match &r.extra {
                    Extra::Open { .. } => {}
                    Extra::Closed { .. } => {
                        let detail = match self.direction {
                            Direction::Backward => {
                                format!(
                                    "{shown} removed from an object that rejects unknown properties"
                                )
                            }
                            Direction::Forward => {
                                format!(
                                    "{shown} added, but older readers reject unknown properties"
                                )
                            }
                        };
                        self.push(Issue::PropertyRejected, Some(&writer.ptr), None, detail);
                    }
                    Extra::Schema(rest) => self.subs(writer, rest),
                }
            }
            (None, reader) => {
                let reader_at = reader.map_or_else(|| r.ptr.clone(), |p| p.ptr.clone());
                if reader_needs && !w.required.contains(name) {
                    let detail = match self.direction {
                        Direction::Backward => format!("required {shown} added"),
                        Direction::Forward => format!("required {shown} removed"),
                    };
                    let issue = Issue::RequiredPropertyMissing;
                    self.push(issue, None, Some(&reader_at), detail);
                    return;
                }
                let Some(reader) = reader else { return };
                match &w.extra {
                    Extra::Closed { .. } => {}
                    Extra::Schema(rest) => self.subs(rest, reader),
                    Extra::Open { .. } => {
                        if self.policy == Policy::Strict && !Shape::of(self.reader, reader).is_any()
                        {
                            let detail = match self.direction {
                                Direction::Backward => format!(
                                    "optional {shown} added to an open object, whose older data may carry it with any value"
                                ),
                                Direction::Forward => format!(
                                    "optional {shown} removed from an open object, whose newer data may carry it with any value"
                                ),
                            };
                            let issue = Issue::OpenPropertyUnknown;
                            self.push(issue, None, Some(&reader.ptr), detail);
                        }
                    }
                }
            }
        }
    }

    /// An inclusive lower and upper bound on a length or count, such as `minLength` and
    /// `maxLength`.
    fn lengths(&mut self, w: &Shape<'a>, r: &Shape<'a>, min: &'static str, max: &'static str) {
        let bound = |s: &Shape<'a>, keyword: &'static str| {
            s.bounds.get(keyword).and_then(|k| {
                Some(Bound {
                    value: k.value.as_f64()?,
                    exclusive: false,
                    ptr: k.ptr.clone(),
                    text: format!("{keyword} {}", k.value),
                })
            })
        };
        let (wl, rl) = (bound(w, min), bound(r, min));
        if let Some(reader) = &rl
            && !covers(reader, wl.as_ref(), |a, b| a < b)
        {
            self.bound(wl, rl);
        }
        let (wu, ru) = (bound(w, max), bound(r, max));
        if let Some(reader) = &ru
            && !covers(reader, wu.as_ref(), |a, b| a > b)
        {
            self.bound(wu, ru);
        }
    }

    fn bound(&mut self, writer: Option<Bound>, reader: Option<Bound>) {
        let detail = self.became(
            writer.as_ref().map(|b| b.text.clone()),
            reader.as_ref().map(|b| b.text.clone()),
        );
        self.push(
            Issue::OutsideBound,
            writer.as_ref().map(|b| b.ptr.as_str()),
            reader.as_ref().map(|b| b.ptr.as_str()),
            detail,
        );
    }

    fn unchecked(&mut self, w: &Shape<'a>, r: &Shape<'a>) {
        let mut names: Vec<&'static str> = w.unchecked.keys().copied().collect();
        names.extend(r.unchecked.keys().copied());
        names.sort_unstable();
        names.dedup();
        for name in names {
            let (writer, reader) = (w.unchecked.get(name), r.unchecked.get(name));
            if writer.map(|k| k.value) == reader.map(|k| k.value) {
                continue;
            }
            let text = |k: &Keyword<'_>| format!("{name} {}", k.value);
            let detail = self.became(writer.map(text), reader.map(text));
            self.push(
                Issue::Unchecked,
                writer.map(|k| k.ptr.as_str()),
                reader.map(|k| k.ptr.as_str()),
                detail,
            );
        }
    }
}

/// Whether the reader's bound admits everything the writer's does; `beyond(a, b)` is true
/// when `a` lies past `b` in the bound's direction (`<` for lower bounds).
fn covers(reader: &Bound, writer: Option<&Bound>, beyond: impl Fn(f64, f64) -> bool) -> bool {
    match writer {
        None => false,
        Some(writer) if reader.value == writer.value => !reader.exclusive || writer.exclusive,
        Some(writer) => beyond(reader.value, writer.value),
    }
}

/// The tightest lower bound of a node: `minimum`, `exclusiveMinimum` and, for integers,
/// the range of the integer `format`.
fn lower(shape: &Shape<'_>, integers: bool) -> Option<Bound> {
    numeric_bound(
        shape,
        integers,
        "minimum",
        "exclusiveMinimum",
        |range| range.0,
        1.0,
    )
}

/// The tightest upper bound of a node, as [`lower`] does.
fn upper(shape: &Shape<'_>, integers: bool) -> Option<Bound> {
    numeric_bound(
        shape,
        integers,
        "maximum",
        "exclusiveMaximum",
        |range| range.1,
        -1.0,
    )
}

/// `sign` is `1.0` for lower bounds and `-1.0` for upper ones, so that "tighter" is
/// "larger after multiplying by sign".
fn numeric_bound(
    shape: &Shape<'_>,
    integers: bool,
    inclusive: &str,
    exclusive: &str,
    end: fn((f64, f64)) -> f64,
    sign: f64,
) -> Option<Bound> {
    let mut bounds = Vec::new();
    // The format comes first so that it is named when an explicit bound only repeats it,
    // as schemars's `maximum: 255` for `u8` does: `u32` to `u8` reads as a format change.
    if integers
        && let Some(k) = shape.bounds.get("format")
        && let Some(format) = k.value.as_str()
        && let Some(range) = keywords::integer_format_range(format)
    {
        bounds.push(Bound {
            value: end(range),
            exclusive: false,
            ptr: k.ptr.clone(),
            text: format!("format {format}"),
        });
    }
    for (keyword, is_exclusive) in [(inclusive, false), (exclusive, true)] {
        if let Some(k) = shape.bounds.get(keyword)
            && let Some(value) = k.value.as_f64()
        {
            let text = format!("{keyword} {}", k.value);
            let mut bound = Bound {
                value,
                exclusive: is_exclusive,
                ptr: k.ptr.clone(),
                text,
            };
            if integers && is_exclusive {
                // For integers `exclusiveMinimum: 0` is `minimum: 1`.
                bound.value = if sign > 0.0 {
                    value.floor() + 1.0
                } else {
                    value.ceil() - 1.0
                };
                bound.exclusive = false;
            }
            bounds.push(bound);
        }
    }
    bounds.into_iter().reduce(|a, b| {
        let tighter = (b.value - a.value) * sign > 0.0 || (b.value == a.value && b.exclusive);
        if tighter { b } else { a }
    })
}

/// JSON equality, except that `1` and `1.0` are the same number.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn list_values(values: &[Keyword<'_>]) -> String {
    const SHOWN: usize = 6;
    let mut shown: Vec<String> = values
        .iter()
        .take(SHOWN)
        .map(|v| v.value.to_string())
        .collect();
    if values.len() > SHOWN {
        shown.push(format!("… ({} in all)", values.len()));
    }
    format!("[{}]", shown.join(", "))
}
