//! Sigma rules (SigmaHQ format, specification v2.1.0): read with `rsigma-parser` (the
//! maintained Sigma parser: YAML, detections, modifiers, wildcard strings and the
//! condition grammar) and lowered to the one rule model: the log source as the table,
//! the condition as D, and every selection the condition negates (under positive
//! polarity, at any depth: `a or (b and not filter)`, `not not not filter`) as an inline
//! exclusion of the conjunction it binds to (`crate::model::scoped_exclusions`). Lines and columns come from fpx's own scan of the YAML, since
//! the parser's AST has none.
//!
//! Semantics follow the specification: values match case-insensitively unless
//! `|cased`; `*` and `?` are wildcards; `contains`/`startswith`/`endswith`; lists are
//! OR (AND with `|all`), maps AND, lists of maps OR; `re` (with `i`, `m`, `s`);
//! `windash` (the five dash characters); `base64`, `base64offset`, `wide`/`utf16*`;
//! `cidr` on dotted IPv4 addresses; `gt/gte/lt/lte`; `exists`; `null` and `''`; `1 of`
//! / `all of` / `them`; keywords (field-less values) search the event's whole text, the
//! field `_raw`. A field an event lacks is null, which is not `''`: `null` and
//! `exists: false` test null, `exists: true` and a lone `*` not null (see
//! `crate::pred::NULL`). What cannot be decided (`fieldref`, `expand` placeholders, time
//! parts, IPv6 ranges beyond the first group, `N of` with N > 1, look-around and other
//! regular expressions the `regex` crate refuses) is over-approximated soundly and noted
//! (FPX401).

pub mod fix;
mod layout;
/// Value matching (wildcards, CIDR ranges), shared with the Elastic front-end.
pub(crate) mod values;

use std::collections::HashMap;

use rsigma_parser::{ConditionExpr, Detection, DetectionItem, Modifier, Quantifier, SelectorPattern, SigmaRule};

use crate::model::{QueryNote, RuleQuery, Scoped, approximate, opaque, scoped_exclusions};
use crate::pred::{Pred, Span};
use crate::schema::Table;
use layout::Layout;

/// The field keyword detections search: the whole event as text (a log line, or the
/// event's fields written out), which is what Sigma backends search for keywords.
pub const RAW: &str = "_raw";

/// Whether a file's text is a Sigma document: top-level `detection:` and `logsource:`
/// (or a meta-filter's `filter:`).
pub fn is_sigma(text: &str) -> bool {
    top_level(text, "detection:") && top_level(text, "logsource:")
}

/// Whether a file's text is a Sigma meta-filter: top-level `filter:` and `logsource:`.
pub fn is_meta_filter(text: &str) -> bool {
    top_level(text, "filter:") && top_level(text, "logsource:") && !top_level(text, "detection:")
}

/// Whether a line of `text` starts with `key` (a top-level YAML key).
fn top_level(text: &str, key: &str) -> bool {
    text.lines().any(|l| l.starts_with(key))
}

/// A Sigma meta-filter (filters specification v2.1.0): an exclusion that applies to
/// every rule it names.
#[derive(Debug, Clone)]
pub struct MetaFilter {
    pub id: String,
    pub title: String,
    /// The ids (or titles) of the rules it applies to; empty: every rule of its log
    /// source.
    pub rules: Vec<String>,
    /// Its log source.
    pub table: Table,
    /// What it suppresses (spans index the file); `None` when its condition cannot be
    /// lowered exactly (`why` says why).
    pub suppresses: Option<Pred>,
    pub why: Option<String>,
    /// The filter's selections and condition in the file.
    pub span: Span,
    /// For an Elastic exception-list item, its list: rules that name the list in their
    /// `exceptions_list` take it too.
    pub list_id: Option<String>,
    /// A Sigma meta-filter or an Elastic exception-list item.
    pub kind: crate::model::FilterKind,
}

impl MetaFilter {
    /// Whether the filter applies to a rule: one it names (by id or title), one that
    /// names its exception list (`lists`), or with neither, every rule of its log source.
    pub fn applies_to(&self, id: &str, title: &str, table: Option<&str>, lists: &[String]) -> bool {
        if self.list_id.as_ref().is_some_and(|l| lists.contains(l)) {
            return true;
        }
        if self.rules.is_empty() {
            self.list_id.is_none() && table == Some(self.table.name())
        } else {
            self.rules.iter().any(|r| r == id || r == title)
        }
    }
}

/// Reads the meta-filters of a file.
pub fn read_meta_filters(text: &str) -> Result<Vec<MetaFilter>, String> {
    let collection = rsigma_parser::parse_sigma_yaml(text).map_err(|e| e.to_string())?;
    if collection.filters.is_empty() {
        return Err(collection
            .errors
            .first()
            .cloned()
            .unwrap_or_else(|| "no Sigma meta-filter in the file".into()));
    }
    let layout = Layout::of_section(text, "filter:");
    let mut out = Vec::new();
    for filter in &collection.filters {
        let mut lowering = Lowering {
            detection: &filter.detection,
            layout: &layout,
            notes: Vec::new(),
            errors: Vec::new(),
            lowered: HashMap::new(),
        };
        let condition = match filter.detection.conditions.as_slice() {
            [one] => one.clone(),
            many => ConditionExpr::Or(many.to_vec()),
        };
        let pred = lowering.condition(&condition);
        let (suppresses, why) = match lowering.notes.first() {
            None => (Some(pred), None),
            Some(note) => (None, Some(note.message.clone())),
        };
        let table = filter
            .logsource
            .as_ref()
            .map_or_else(|| Table::sigma(None, None, None), table);
        out.push(MetaFilter {
            id: filter.id.clone().unwrap_or_default(),
            title: filter.title.clone(),
            rules: match &filter.rules {
                rsigma_parser::FilterRuleTarget::Any => Vec::new(),
                rsigma_parser::FilterRuleTarget::Specific(ids) => ids.clone(),
            },
            table,
            suppresses,
            why,
            span: layout.section(),
            list_id: None,
            kind: crate::model::FilterKind::SigmaMetaFilter,
        });
    }
    Ok(out)
}

/// A Sigma rule as fpx reads it: its metadata and the rule model of its detection.
#[derive(Debug, Clone)]
pub struct SigmaDoc {
    pub id: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub query: RuleQuery,
}

/// Reads a rule (its whole file: spans index it); `Err` with a message when
/// rsigma-parser cannot read it.
pub fn read_sigma(text: &str) -> Result<SigmaDoc, String> {
    let rule = parse(text)?;
    Ok(SigmaDoc {
        id: rule.id.clone().unwrap_or_default(),
        title: rule.title.clone(),
        description: rule.description.clone().unwrap_or_default(),
        tags: rule.tags.clone(),
        query: lower_rule(&rule, text),
    })
}

fn parse(text: &str) -> Result<SigmaRule, String> {
    let collection = rsigma_parser::parse_sigma_yaml(text).map_err(|e| e.to_string())?;
    if let Some(rule) = collection.rules.into_iter().next() {
        return Ok(rule);
    }
    Err(match collection.errors.first() {
        Some(e) => innermost(e),
        None => "no Sigma detection rule in the file".into(),
    })
}

/// rsigma's error for a deeply nested condition repeats its prefix once per level
/// (`Condition parse error at 1:66: at 1:66: Condition parse error at ...` 64 times),
/// or quotes the whole condition line in a pest snippet (`--> 1:4412`, the line, `=
/// stack limit reached`): the innermost message, with its position, says it all.
fn innermost(error: &str) -> String {
    const PREFIX: &str = "Condition parse error";
    if let (Some(arrow), Some(last)) = (error.find(" --> "), error.lines().last())
        && let Some(message) = last.trim().strip_prefix("= ")
    {
        let at = error[arrow + 5..].lines().next().unwrap_or("").trim();
        return format!("{PREFIX} at {at}: {message}");
    }
    let Some(last) = error.rfind(PREFIX) else {
        return error.to_string();
    };
    if last == error.find(PREFIX).unwrap_or(last) {
        return error.to_string();
    }
    let at = error[..last]
        .rsplit(" at ")
        .map(|part| part.trim_end_matches(": ").trim())
        .find(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit() || b == b':'));
    let inner = error[last + PREFIX.len()..].trim_start_matches(':').trim();
    match at {
        Some(at) => format!("{PREFIX} at {at}: {inner}"),
        None => format!("{PREFIX}: {inner}"),
    }
}

/// The table of a log source ([`Table::sigma`]).
fn table(ls: &rsigma_parser::LogSource) -> Table {
    Table::sigma(ls.product.as_deref(), ls.category.as_deref(), ls.service.as_deref())
}

/// Lowers a Sigma rule's text (the whole file: spans index it) to the rule model.
pub fn lower(text: &str) -> RuleQuery {
    match parse(text) {
        Ok(rule) => lower_rule(&rule, text),
        Err(e) => RuleQuery::unreadable(
            0..text.lines().next().map_or(0, str::len),
            format!("fpx cannot read the rule: {e}"),
        ),
    }
}

fn lower_rule(rule: &SigmaRule, text: &str) -> RuleQuery {
    let layout = Layout::of(text);
    let mut lowering = Lowering {
        detection: &rule.detection,
        layout: &layout,
        notes: Vec::new(),
        errors: Vec::new(),
        lowered: HashMap::new(),
    };
    let condition = match rule.detection.conditions.as_slice() {
        [] => {
            lowering.note(layout.detection.clone(), "the rule has no `condition`".into(), true);
            None
        }
        [one] => Some(one.clone()),
        many => Some(ConditionExpr::Or(many.to_vec())),
    };
    let lowered = condition.as_ref().map(|c| lowering.condition(c));
    let fatal = lowering.notes.iter().any(|n| n.fatal) || !lowering.errors.is_empty();
    let lowered = lowered.filter(|_| !fatal);
    let detection = lowered.as_ref().map(|d| approximate(d, true));
    // Every negated selection under positive polarity is an exclusion of its scope
    // (`selection and not filter`, `a or (b and not filter)`, `not not not filter`).
    let (inline, unexcluded) = match &lowered {
        Some(d) => {
            let names: Vec<(&String, &Pred)> = lowering.lowered.iter().collect();
            let classify = |c: &Pred| {
                let Pred::Not(inner) = c else { return None };
                if c.atoms().iter().any(|a| a.field == crate::model::OPAQUE) {
                    return None;
                }
                let mut named = Vec::new();
                selections_of(inner, &names, &mut named).then_some(())?;
                named.sort_by_key(|n| layout.body(n).map_or(usize::MAX, |s| s.start));
                let condition = text.get(layout.condition.clone()).unwrap_or("");
                Some(Scoped {
                    span: layout.body(&named[0]).unwrap_or(0..0),
                    by_precedence: named.len() == 1 && layout::bound_by_precedence(condition, &named[0]),
                    name: Some(named.join(", ")),
                })
            };
            scoped_exclusions(d, &classify, &|p, positive| approximate(p, positive), true)
        }
        None => (Vec::new(), None),
    };
    RuleQuery {
        table: Some(table(&rule.logsource)),
        detection,
        output_columns: Vec::new(),
        notes: lowering.notes,
        errors: lowering.errors,
        inline,
        unexcluded,
    }
}

/// Whether `p` is made of whole selections (one, or an `and`/`or` of them), and which
/// (pushed to `out`).
fn selections_of(p: &Pred, names: &[(&String, &Pred)], out: &mut Vec<String>) -> bool {
    // Atoms compare without their spans; a selection is also where it is written.
    let spans = |q: &Pred| q.atoms().iter().map(|a| a.span.clone()).collect::<Vec<_>>();
    if let Some((name, _)) = names.iter().find(|(_, q)| *q == p && spans(q) == spans(p)) {
        out.push((*name).clone());
        return true;
    }
    match p {
        Pred::And(ps) | Pred::Or(ps) if !ps.is_empty() => ps.iter().all(|q| selections_of(q, names, out)),
        _ => false,
    }
}

struct Lowering<'a> {
    detection: &'a rsigma_parser::Detections,
    layout: &'a Layout,
    notes: Vec<QueryNote>,
    /// Why the rule is invalid Sigma (FPX403): a name the condition uses that the rule
    /// does not define, a pattern that selects nothing.
    errors: Vec<crate::model::QueryError>,
    lowered: HashMap<String, Pred>,
}

impl Lowering<'_> {
    fn note(&mut self, span: Span, message: String, fatal: bool) {
        self.notes.push(QueryNote::new(span, message, fatal));
    }

    /// An over-approximated condition at `span`, with the note saying why.
    fn approximated(&mut self, span: Span, why: String) -> Pred {
        self.note(span.clone(), format!("{why}; it is read as \"could be true\""), false);
        opaque(Some(span))
    }

    /// An error that makes the rule invalid Sigma, at the condition.
    fn error(&mut self, message: String, help: Option<String>) {
        let span = self.layout.condition.clone();
        // A condition's parts can be lowered more than once (the rule, then its
        // filters): one error each.
        if !self.errors.iter().any(|e| e.span == span && e.message == message) {
            self.errors.push(crate::model::QueryError { span, message, help });
        }
    }

    /// The names a selector picks, in file order (`them`: every name not starting `_`);
    /// a pattern that picks none is an error (a typo such as `filter_mian_*` would
    /// otherwise silently drop the filters it meant).
    fn selected(&mut self, pattern: &SelectorPattern) -> Vec<String> {
        let names = self.matching(pattern);
        if names.is_empty() {
            let defined: Vec<&str> = self.detection.named.keys().map(String::as_str).collect();
            let help = match pattern {
                SelectorPattern::Pattern(p) => {
                    // A typo in a prefix pattern: compare with the names cut to its length.
                    let prefix = p.trim_end_matches('*');
                    let cut: Vec<&str> = defined.iter().map(|n| n.get(..prefix.len()).unwrap_or(n)).collect();
                    crate::schema::nearest_name(prefix, cut.iter().copied())
                        .and_then(|c| defined.iter().find(|n| n.starts_with(c)))
                        .map(|n| format!("did you mean a pattern that matches `{n}`?"))
                }
                SelectorPattern::Them => None,
            };
            self.error(
                format!("the condition's `{pattern}` matches no selection of the rule"),
                help,
            );
        }
        names
    }

    fn matching(&self, pattern: &SelectorPattern) -> Vec<String> {
        let mut names: Vec<&String> = self.detection.named.keys().collect();
        names.sort_by_key(|n| self.layout.block(n).map_or(usize::MAX, |s| s.start));
        names
            .into_iter()
            .filter(|n| match pattern {
                SelectorPattern::Them => !n.starts_with('_'),
                SelectorPattern::Pattern(p) => rsigma_parser::detection_name_matches(p, n),
            })
            .cloned()
            .collect()
    }

    fn condition(&mut self, c: &ConditionExpr) -> Pred {
        match c {
            ConditionExpr::And(items) => Pred::And(items.iter().map(|i| self.condition(i)).collect()),
            ConditionExpr::Or(items) => Pred::Or(items.iter().map(|i| self.condition(i)).collect()),
            // `not 1 of filter_*` is `not filter_a and not filter_b`: each filter an
            // exclusion of its own.
            ConditionExpr::Not(inner) => match inner.as_ref() {
                ConditionExpr::Selector {
                    quantifier: Quantifier::Any | Quantifier::Count(1),
                    pattern,
                } => {
                    let names = self.selected(pattern);
                    Pred::And(names.iter().map(|n| Pred::Not(Box::new(self.selection(n)))).collect())
                }
                _ => Pred::Not(Box::new(self.condition(inner))),
            },
            ConditionExpr::Identifier(name) => self.selection(name),
            ConditionExpr::Selector { quantifier, pattern } => {
                let names = self.selected(pattern);
                let preds: Vec<Pred> = names.iter().map(|n| self.selection(n)).collect();
                match quantifier {
                    Quantifier::Any | Quantifier::Count(1) => Pred::Or(preds),
                    Quantifier::All => Pred::And(preds),
                    Quantifier::Count(n) => {
                        let span = self.layout.condition.clone();
                        self.approximated(
                            span,
                            format!("`{n} of {pattern}` counts matching selections, which fpx does not lower"),
                        )
                    }
                }
            }
        }
    }

    /// A named detection, lowered once.
    fn selection(&mut self, name: &str) -> Pred {
        if let Some(p) = self.lowered.get(name) {
            return p.clone();
        }
        let pred = match self.detection.named.get(name) {
            Some(detection) => {
                let mut cursor = self.layout.body(name).map_or(0, |s| s.start);
                let block = self.layout.body(name).unwrap_or(self.layout.detection.clone());
                self.detection(detection, &block, &mut cursor)
            }
            None => {
                let defined: Vec<&str> = self.detection.named.keys().map(String::as_str).collect();
                let help =
                    crate::schema::nearest_name(name, defined.iter().copied()).map(|n| format!("did you mean `{n}`?"));
                self.error(
                    format!("the condition names `{name}`, which the rule does not define"),
                    help,
                );
                Pred::False
            }
        };
        self.lowered.insert(name.to_string(), pred.clone());
        pred
    }

    fn detection(&mut self, d: &Detection, block: &Span, cursor: &mut usize) -> Pred {
        match d {
            Detection::AllOf(items) => Pred::And(items.iter().map(|i| self.item(i, block, cursor)).collect()),
            Detection::AnyOf(ds) => Pred::Or(ds.iter().map(|d| self.detection(d, block, cursor)).collect()),
            Detection::And(ds) => Pred::And(ds.iter().map(|d| self.detection(d, block, cursor)).collect()),
            Detection::Keywords(values) => {
                let span = self.layout.item(block, None, cursor);
                self.keywords(values, &[], span)
            }
            Detection::ArrayMatch { field, .. } => self.approximated(
                block.clone(),
                format!("`{field}[...]` matches members of an array field"),
            ),
            Detection::Conditional { .. } => {
                self.approximated(block.clone(), "an array block with its own condition".into())
            }
        }
    }

    /// Keywords search the whole event as text: the field [`RAW`], which each value
    /// must occur in (case-insensitively, with wildcards), as full-text search does.
    fn keywords(&mut self, values: &[rsigma_parser::SigmaValue], modifiers: &[Modifier], span: Span) -> Pred {
        let mut modifiers = modifiers.to_vec();
        modifiers.push(Modifier::Contains);
        match values::lower_item(RAW, &modifiers, values, span.clone()) {
            Ok(pred) => pred,
            Err(why) => self.approximated(span, why),
        }
    }

    fn item(&mut self, item: &DetectionItem, block: &Span, cursor: &mut usize) -> Pred {
        let span = self.layout.item(block, item.field.name.as_deref(), cursor);
        let Some(field) = &item.field.name else {
            return self.keywords(&item.values, &item.field.modifiers, span);
        };
        let unsupported = item.field.modifiers.iter().find(|m| {
            matches!(
                m,
                Modifier::FieldRef
                    | Modifier::Expand
                    | Modifier::Minute
                    | Modifier::Hour
                    | Modifier::Day
                    | Modifier::Week
                    | Modifier::Month
                    | Modifier::Year
            )
        });
        if let Some(m) = unsupported {
            let name = format!("{m:?}").to_ascii_lowercase();
            return self.approximated(span, format!("`{field}|{name}` is a modifier fpx does not decide"));
        }
        match values::lower_item(field, &item.field.modifiers, &item.values, span.clone()) {
            Ok(pred) => pred,
            Err(why) => self.approximated(span, why),
        }
    }
}

#[cfg(test)]
mod tests;
