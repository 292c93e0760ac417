//! Evaluates `export const resource = {...}` without running JavaScript, when it is built from
//! literals: objects, arrays, strings, numbers, booleans, null, template literals, spreads,
//! simple operators, TypeScript wrappers (`as const`, `satisfies`, `!`, `<T>x`), and constants
//! defined in the same module or imported (recursively) from relative, aliased or `.json`
//! modules. Anything else (a function call, a package import, ...) is [`NotStatic`] and the
//! caller evaluates the module with Node instead.

use std::fs;
use std::path::{Path, PathBuf};

use oxc::allocator::Allocator;
use oxc::ast::ast::{
    ArrayExpressionElement, BinaryExpression, BinaryOperator, BindingPattern, ChainElement,
    Declaration, ExportDefaultDeclarationKind, ExportSpecifier, Expression,
    ImportDeclarationSpecifier, ImportOrExportKind, LogicalOperator, ModuleDeclaration,
    ObjectPropertyKind, Program, PropertyKey, PropertyKind, Statement, UnaryOperator,
    VariableDeclarationKind,
};
use oxc::parser::Parser;
use oxc::span::{GetSpan, SourceType};
use oxc_resolver::Resolver;

use super::value::{JsObject, JsValue, number_to_string};
use crate::error::{Diagnostic, Location, relative_to};

/// Why a value is not statically known (the build then asks Node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotStatic {
    /// What could not be evaluated, with its location, for logs.
    pub reason: String,
}

/// Evaluation outcome for one expression.
#[derive(Debug)]
pub(crate) enum EvalError {
    /// Not statically known: fall back to Node.
    NotStatic(NotStatic),
    /// A module in the chain has syntax errors.
    Syntax(Vec<Diagnostic>),
}

type Eval<T> = Result<T, EvalError>;

/// Names a module exports, as far as the syntax tells.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExportNames {
    /// Explicit export names.
    pub names: Vec<String>,
    /// Whether the module has `export * from '...'` (then any name may exist).
    pub has_star: bool,
}

impl ExportNames {
    /// `Some(true/false)` when known, `None` when a star re-export could provide it.
    pub(crate) fn has(&self, name: &str) -> Option<bool> {
        if self.names.iter().any(|n| n == name) {
            Some(true)
        } else if self.has_star {
            None
        } else {
            Some(false)
        }
    }
}

/// Parses modules on demand and evaluates their exports.
pub(crate) struct Evaluator<'r> {
    root: &'r Path,
    resolver: &'r Resolver,
    depth: usize,
    expr_depth: usize,
}

const MAX_DEPTH: usize = 64;
/// Nesting of one expression (objects in arrays in objects ...); deeper goes to Node.
const MAX_EXPR_DEPTH: usize = 256;

struct Module<'m, 'a> {
    file: &'m Path,
    text: &'m str,
    program: &'m Program<'a>,
}

enum Binding<'m, 'a> {
    Expr(&'m Expression<'a>),
    Import {
        source: String,
        imported: Option<String>,
    },
    Global(JsValue),
}

impl<'r> Evaluator<'r> {
    pub(crate) fn new(root: &'r Path, resolver: &'r Resolver) -> Evaluator<'r> {
        Evaluator {
            root,
            resolver,
            depth: 0,
            expr_depth: 0,
        }
    }

    /// The export names of `file` and the value of its export `name` (if it has one).
    pub(crate) fn exports_and_value(
        &mut self,
        file: &Path,
        name: &str,
    ) -> Eval<(ExportNames, Option<Eval<JsValue>>)> {
        self.with_module(file, |ev, m| {
            let names = export_names(m.program);
            let value = (names.has(name) != Some(false)).then(|| ev.export(m, name));
            (names, value)
        })
    }

    fn not_static(&self, file: &Path, text: &str, offset: u32, what: &str) -> EvalError {
        let loc = Location::from_offset(relative_to(self.root, file), text, offset as usize);
        EvalError::NotStatic(NotStatic {
            reason: format!("{what} at {loc}"),
        })
    }

    fn with_module<T>(
        &mut self,
        file: &Path,
        f: impl for<'m, 'a> FnOnce(&mut Self, &Module<'m, 'a>) -> T,
    ) -> Eval<T> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(EvalError::NotStatic(NotStatic {
                reason: "imports nested too deeply (or circular)".to_owned(),
            }));
        }
        let result = self.with_module_inner(file, f);
        self.depth -= 1;
        result
    }

    fn with_module_inner<T>(
        &mut self,
        file: &Path,
        f: impl for<'m, 'a> FnOnce(&mut Self, &Module<'m, 'a>) -> T,
    ) -> Eval<T> {
        let text = fs::read_to_string(file).map_err(|e| {
            EvalError::NotStatic(NotStatic {
                reason: format!("cannot read {}: {e}", file.display()),
            })
        })?;
        let allocator = Allocator::default();
        let source_type = SourceType::from_path(file).unwrap_or_else(|_| SourceType::tsx());
        let parsed = Parser::new(&allocator, &text, source_type).parse();
        if parsed.panicked || parsed.diagnostics.has_errors() {
            let diagnostics = parsed
                .diagnostics
                .errors()
                .map(|d| {
                    let offset = d.labels.first().map_or(0, |l| l.offset() as usize);
                    Diagnostic {
                        location: Some(Location::from_offset(
                            relative_to(self.root, file),
                            &text,
                            offset,
                        )),
                        message: d.message.to_string(),
                        code: "PARSE_ERROR".to_owned(),
                        help: d.help.as_ref().map(ToString::to_string),
                    }
                })
                .collect();
            return Err(EvalError::Syntax(diagnostics));
        }
        let module = Module {
            file,
            text: &text,
            program: &parsed.program,
        };
        Ok(f(self, &module))
    }

    /// The value of export `name` of `file`.
    fn export_of_file(&mut self, file: &Path, name: &str) -> Eval<JsValue> {
        if file.extension().is_some_and(|e| e == "json") {
            return self.json_export(file, name);
        }
        self.with_module(file, |ev, m| ev.export(m, name))?
    }

    fn json_export(&self, file: &Path, name: &str) -> Eval<JsValue> {
        let text = fs::read_to_string(file).map_err(|e| {
            EvalError::NotStatic(NotStatic {
                reason: format!("cannot read {}: {e}", file.display()),
            })
        })?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            EvalError::NotStatic(NotStatic {
                reason: format!("invalid JSON in {}: {e}", file.display()),
            })
        })?;
        let value = JsValue::from_json(value);
        if name == "default" {
            return Ok(value);
        }
        match &value {
            JsValue::Object(o) => o.get(name).cloned().ok_or_else(|| {
                EvalError::NotStatic(NotStatic {
                    reason: format!("{} has no key {name}", file.display()),
                })
            }),
            _ => Err(EvalError::NotStatic(NotStatic {
                reason: format!("{} is not a JSON object", file.display()),
            })),
        }
    }

    fn export(&mut self, m: &Module<'_, '_>, name: &str) -> Eval<JsValue> {
        for stmt in &m.program.body {
            let Some(decl) = stmt.as_module_declaration() else {
                continue;
            };
            match decl {
                ModuleDeclaration::ExportDeclaration(d) => {
                    if let Declaration::VariableDeclaration(v) = &d.declaration {
                        for declarator in &v.declarations {
                            if binding_name(&declarator.id) == Some(name) {
                                return match (&declarator.init, v.kind) {
                                    (Some(init), VariableDeclarationKind::Const) => {
                                        self.expr(m, init)
                                    }
                                    _ => Err(self.not_static(
                                        m.file,
                                        m.text,
                                        declarator.span.start,
                                        "a non-const export",
                                    )),
                                };
                            }
                        }
                    }
                }
                ModuleDeclaration::ExportNamedDeclaration(d) => {
                    if d.export_kind == ImportOrExportKind::Type {
                        continue;
                    }
                    for s in &d.specifiers {
                        if s.exported.name() == name {
                            let local = s.local.name().to_string();
                            return self.identifier(m, &local, s.span.start);
                        }
                    }
                }
                ModuleDeclaration::ExportFromDeclaration(d) => {
                    for s in &d.specifiers {
                        if s.exported.name() == name {
                            let target = self.resolve(m, &d.source.value, d.span.start)?;
                            let local = s.local.name().to_string();
                            return self.export_of_file(&target, &local);
                        }
                    }
                }
                ModuleDeclaration::ExportDefaultDeclaration(d) if name == "default" => {
                    return match &d.declaration {
                        ExportDefaultDeclarationKind::FunctionDeclaration(_)
                        | ExportDefaultDeclarationKind::ClassDeclaration(_)
                        | ExportDefaultDeclarationKind::TSInterfaceDeclaration(_) => Err(self
                            .not_static(
                                m.file,
                                m.text,
                                d.span.start,
                                "a default export that is not a value",
                            )),
                        other => match other.as_expression() {
                            Some(e) => self.expr(m, e),
                            None => Err(self.not_static(
                                m.file,
                                m.text,
                                d.span.start,
                                "a default export",
                            )),
                        },
                    };
                }
                _ => {}
            }
        }
        // `export * from` last: explicit exports win.
        for stmt in &m.program.body {
            if let Some(ModuleDeclaration::ExportAllDeclaration(d)) = stmt.as_module_declaration()
                && d.exported.is_none()
                && name != "default"
            {
                let target = self.resolve(m, &d.source.value, d.span.start)?;
                if let Ok(v) = self.export_of_file(&target, name) {
                    return Ok(v);
                }
            }
        }
        Err(EvalError::NotStatic(NotStatic {
            reason: format!(
                "no static export \"{name}\" in {}",
                relative_to(self.root, m.file).display()
            ),
        }))
    }

    /// Resolves a relative or aliased import; package imports are not static.
    fn resolve(&self, m: &Module<'_, '_>, specifier: &str, offset: u32) -> Eval<PathBuf> {
        let dir = m.file.parent().unwrap_or(self.root);
        match self.resolver.resolve(dir, specifier) {
            Ok(r) => {
                let path = r.full_path();
                let in_package = path.components().any(|c| c.as_os_str() == "node_modules");
                if in_package {
                    Err(self.not_static(
                        m.file,
                        m.text,
                        offset,
                        &format!("a value imported from the package \"{specifier}\""),
                    ))
                } else {
                    Ok(path)
                }
            }
            Err(_) => Err(self.not_static(
                m.file,
                m.text,
                offset,
                &format!("an import of \"{specifier}\" that does not resolve"),
            )),
        }
    }

    fn find_binding<'m, 'a>(m: &Module<'m, 'a>, name: &str) -> Option<Binding<'m, 'a>> {
        for stmt in &m.program.body {
            let var = match stmt {
                Statement::VariableDeclaration(v) => Some(&**v),
                Statement::ExportDeclaration(d) => match &d.declaration {
                    Declaration::VariableDeclaration(v) => Some(&**v),
                    _ => None,
                },
                _ => None,
            };
            if let Some(v) = var {
                for declarator in &v.declarations {
                    if binding_name(&declarator.id) == Some(name) {
                        return match (&declarator.init, v.kind) {
                            (Some(init), VariableDeclarationKind::Const) => {
                                Some(Binding::Expr(init))
                            }
                            _ => None,
                        };
                    }
                }
            }
            if let Statement::ImportDeclaration(import) = stmt {
                if import.import_kind == ImportOrExportKind::Type {
                    continue;
                }
                for spec in import.specifiers.iter().flatten() {
                    let (local, imported) = match spec {
                        ImportDeclarationSpecifier::ImportSpecifier(s) => {
                            (s.local.name.as_str(), Some(s.imported.name().to_string()))
                        }
                        ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                            (s.local.name.as_str(), Some("default".to_owned()))
                        }
                        ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => {
                            (s.local.name.as_str(), None)
                        }
                    };
                    if local == name {
                        return Some(Binding::Import {
                            source: import.source.value.to_string(),
                            imported,
                        });
                    }
                }
            }
        }
        match name {
            "undefined" => Some(Binding::Global(JsValue::Undefined)),
            "NaN" => Some(Binding::Global(JsValue::Number(f64::NAN))),
            "Infinity" => Some(Binding::Global(JsValue::Number(f64::INFINITY))),
            _ => None,
        }
    }

    fn identifier(&mut self, m: &Module<'_, '_>, name: &str, offset: u32) -> Eval<JsValue> {
        match Self::find_binding(m, name) {
            Some(Binding::Expr(e)) => {
                self.depth += 1;
                let result = if self.depth > MAX_DEPTH {
                    Err(self.not_static(m.file, m.text, offset, "a circular constant"))
                } else {
                    self.expr(m, e)
                };
                self.depth -= 1;
                result
            }
            Some(Binding::Import {
                source,
                imported: Some(imported),
            }) => {
                let target = self.resolve(m, &source, offset)?;
                self.export_of_file(&target, &imported)
            }
            Some(Binding::Import { imported: None, .. }) => Err(self.not_static(
                m.file,
                m.text,
                offset,
                &format!("the namespace object `{name}`"),
            )),
            Some(Binding::Global(v)) => Ok(v),
            None => Err(self.not_static(
                m.file,
                m.text,
                offset,
                &format!("`{name}`, which is not a module-level constant"),
            )),
        }
    }

    fn expr(&mut self, m: &Module<'_, '_>, e: &Expression<'_>) -> Eval<JsValue> {
        self.expr_depth += 1;
        let result = if self.expr_depth > MAX_EXPR_DEPTH {
            Err(self.not_static(m.file, m.text, e.span().start, "a deeply nested expression"))
        } else {
            self.expr_inner(m, e)
        };
        self.expr_depth -= 1;
        result
    }

    fn expr_inner(&mut self, m: &Module<'_, '_>, e: &Expression<'_>) -> Eval<JsValue> {
        let e = e.get_inner_expression();
        let fail = |ev: &Self, what: &str| Err(ev.not_static(m.file, m.text, e.span().start, what));
        match e {
            Expression::NullLiteral(_) => Ok(JsValue::Null),
            Expression::BooleanLiteral(b) => Ok(JsValue::Bool(b.value)),
            Expression::NumericLiteral(n) => Ok(JsValue::Number(n.value)),
            Expression::StringLiteral(s) => {
                if s.lone_surrogates {
                    return fail(self, "a string with lone surrogates");
                }
                Ok(JsValue::String(s.value.to_string()))
            }
            Expression::TemplateLiteral(t) => {
                let mut out = String::new();
                for (i, quasi) in t.quasis.iter().enumerate() {
                    let Some(cooked) = &quasi.value.cooked else {
                        return fail(self, "an invalid escape in a template literal");
                    };
                    if quasi.lone_surrogates {
                        return fail(self, "a string with lone surrogates");
                    }
                    out.push_str(cooked.as_str());
                    if let Some(x) = t.expressions.get(i) {
                        let v = self.expr(m, x)?;
                        out.push_str(&v.to_js_string());
                    }
                }
                Ok(JsValue::String(out))
            }
            Expression::Identifier(id) => self.identifier(m, id.name.as_str(), id.span.start),
            Expression::ArrayExpression(a) => {
                let mut items = Vec::with_capacity(a.elements.len());
                for el in &a.elements {
                    match el {
                        ArrayExpressionElement::SpreadElement(s) => {
                            match self.expr(m, &s.argument)? {
                                JsValue::Array(inner) => items.extend(inner),
                                JsValue::String(s) => {
                                    items.extend(s.chars().map(|c| JsValue::String(c.to_string())));
                                }
                                _ => return fail(self, "a spread of a non-array"),
                            }
                        }
                        ArrayExpressionElement::Elision(_) => items.push(JsValue::Undefined),
                        other => match other.as_expression() {
                            Some(x) => items.push(self.expr(m, x)?),
                            None => return fail(self, "an array element"),
                        },
                    }
                }
                Ok(JsValue::Array(items))
            }
            Expression::ObjectExpression(o) => {
                let mut obj = JsObject::default();
                for prop in &o.properties {
                    match prop {
                        ObjectPropertyKind::SpreadProperty(s) => match self.expr(m, &s.argument)? {
                            JsValue::Object(inner) => {
                                for (k, v) in inner.entries() {
                                    obj.set(k.clone(), v.clone());
                                }
                            }
                            JsValue::Array(inner) => {
                                for (i, v) in inner.into_iter().enumerate() {
                                    obj.set(i.to_string(), v);
                                }
                            }
                            JsValue::Null
                            | JsValue::Undefined
                            | JsValue::Bool(_)
                            | JsValue::Number(_) => {}
                            JsValue::String(s) => {
                                for (i, c) in s.chars().enumerate() {
                                    obj.set(i.to_string(), JsValue::String(c.to_string()));
                                }
                            }
                        },
                        ObjectPropertyKind::ObjectProperty(p) => {
                            if p.kind != PropertyKind::Init || p.method {
                                return fail(self, "a method or accessor");
                            }
                            let key = match &p.key {
                                PropertyKey::StaticIdentifier(id) => id.name.to_string(),
                                PropertyKey::PrivateIdentifier(_) => {
                                    return fail(self, "a private name");
                                }
                                PropertyKey::StringLiteral(s) if !p.computed => s.value.to_string(),
                                PropertyKey::NumericLiteral(n) if !p.computed => {
                                    number_to_string(n.value)
                                }
                                other => match other.as_expression() {
                                    Some(k) if p.computed => match self.expr(m, k)? {
                                        v @ (JsValue::String(_)
                                        | JsValue::Number(_)
                                        | JsValue::Bool(_)
                                        | JsValue::Null
                                        | JsValue::Undefined) => v.to_js_string(),
                                        _ => {
                                            return fail(
                                                self,
                                                "a computed key that is not a primitive",
                                            );
                                        }
                                    },
                                    _ => return fail(self, "a property key"),
                                },
                            };
                            // `__proto__: x` sets the prototype, not a property.
                            if key == "__proto__" && !p.computed && !p.shorthand {
                                return fail(self, "a __proto__ property");
                            }
                            let value = self.expr(m, &p.value)?;
                            obj.set(key, value);
                        }
                    }
                }
                Ok(JsValue::Object(obj))
            }
            Expression::UnaryExpression(u) => {
                let v = self.expr(m, &u.argument)?;
                match u.operator {
                    UnaryOperator::UnaryNegation => match to_number(&v) {
                        Some(n) => Ok(JsValue::Number(-n)),
                        None => fail(self, "`-` on a non-number"),
                    },
                    UnaryOperator::UnaryPlus => match to_number(&v) {
                        Some(n) => Ok(JsValue::Number(n)),
                        None => fail(self, "`+` on a non-number"),
                    },
                    UnaryOperator::LogicalNot => Ok(JsValue::Bool(!v.truthy())),
                    UnaryOperator::Void => Ok(JsValue::Undefined),
                    _ => fail(self, "this operator"),
                }
            }
            Expression::BinaryExpression(b) => self.binary(m, b),
            Expression::LogicalExpression(l) => {
                let left = self.expr(m, &l.left)?;
                let take_left = match l.operator {
                    LogicalOperator::And => !left.truthy(),
                    LogicalOperator::Or => left.truthy(),
                    LogicalOperator::Coalesce => {
                        !matches!(left, JsValue::Null | JsValue::Undefined)
                    }
                };
                if take_left {
                    Ok(left)
                } else {
                    self.expr(m, &l.right)
                }
            }
            Expression::ConditionalExpression(c) => {
                if self.expr(m, &c.test)?.truthy() {
                    self.expr(m, &c.consequent)
                } else {
                    self.expr(m, &c.alternate)
                }
            }
            Expression::ChainExpression(c) => match &c.expression {
                ChainElement::StaticMemberExpression(s) => self.member(
                    m,
                    &s.object,
                    Key::Name(s.property.name.as_str()),
                    s.optional,
                    s.span.start,
                ),
                ChainElement::ComputedMemberExpression(s) => {
                    let key = self.expr(m, &s.expression)?;
                    self.member(m, &s.object, Key::Value(key), s.optional, s.span.start)
                }
                _ => fail(self, "a call"),
            },
            Expression::StaticMemberExpression(s) => self.member(
                m,
                &s.object,
                Key::Name(s.property.name.as_str()),
                false,
                s.span.start,
            ),
            Expression::ComputedMemberExpression(s) => {
                let key = self.expr(m, &s.expression)?;
                self.member(m, &s.object, Key::Value(key), false, s.span.start)
            }
            Expression::CallExpression(_) | Expression::NewExpression(_) => {
                let text = source_snippet(m.text, e.span().start, e.span().end);
                fail(self, &format!("the call `{text}`"))
            }
            _ => fail(self, "an expression that is not a literal"),
        }
    }

    fn member(
        &mut self,
        m: &Module<'_, '_>,
        object: &Expression<'_>,
        key: Key<'_>,
        optional: bool,
        offset: u32,
    ) -> Eval<JsValue> {
        let key_string = match &key {
            Key::Name(n) => (*n).to_owned(),
            Key::Value(v) => v.to_js_string(),
        };
        // `ns.X` for `import * as ns from './consts'`.
        if let Expression::Identifier(id) = object.get_inner_expression()
            && let Some(Binding::Import {
                source,
                imported: None,
            }) = Self::find_binding(m, id.name.as_str())
        {
            let target = self.resolve(m, &source, offset)?;
            return self.export_of_file(&target, &key_string);
        }
        let value = self.expr(m, object)?;
        let not_own = |ev: &Self| {
            Err(ev.not_static(
                m.file,
                m.text,
                offset,
                &format!("the property `{key_string}`"),
            ))
        };
        match value {
            JsValue::Null | JsValue::Undefined if optional => Ok(JsValue::Undefined),
            JsValue::Object(o) => match o.get(&key_string) {
                Some(v) => Ok(v.clone()),
                None if is_object_prototype_member(&key_string) => not_own(self),
                None => Ok(JsValue::Undefined),
            },
            JsValue::Array(items) => {
                if key_string == "length" {
                    return Ok(JsValue::Number(items.len() as f64));
                }
                match key_string.parse::<usize>() {
                    Ok(i) if i.to_string() == key_string => {
                        Ok(items.get(i).cloned().unwrap_or(JsValue::Undefined))
                    }
                    _ => not_own(self),
                }
            }
            JsValue::String(s) if key_string == "length" => {
                Ok(JsValue::Number(s.encode_utf16().count() as f64))
            }
            _ => not_own(self),
        }
    }

    fn binary(&mut self, m: &Module<'_, '_>, b: &BinaryExpression<'_>) -> Eval<JsValue> {
        let left = self.expr(m, &b.left)?;
        let right = self.expr(m, &b.right)?;
        let primitive = |v: &JsValue| !matches!(v, JsValue::Array(_) | JsValue::Object(_));
        if !primitive(&left) || !primitive(&right) {
            return Err(self.not_static(m.file, m.text, b.span.start, "an operator on an object"));
        }
        let numbers = to_number(&left).zip(to_number(&right));
        let result = match b.operator {
            BinaryOperator::Addition => {
                if matches!(left, JsValue::String(_)) || matches!(right, JsValue::String(_)) {
                    Some(JsValue::String(left.to_js_string() + &right.to_js_string()))
                } else {
                    numbers.map(|(a, c)| JsValue::Number(a + c))
                }
            }
            BinaryOperator::Subtraction => numbers.map(|(a, c)| JsValue::Number(a - c)),
            BinaryOperator::Multiplication => numbers.map(|(a, c)| JsValue::Number(a * c)),
            BinaryOperator::Division => numbers.map(|(a, c)| JsValue::Number(a / c)),
            BinaryOperator::StrictEquality => Some(JsValue::Bool(strict_equals(&left, &right))),
            BinaryOperator::StrictInequality => Some(JsValue::Bool(!strict_equals(&left, &right))),
            _ => None,
        };
        result.ok_or_else(|| self.not_static(m.file, m.text, b.span.start, "this operator"))
    }
}

enum Key<'k> {
    Name(&'k str),
    Value(JsValue),
}

fn strict_equals(a: &JsValue, b: &JsValue) -> bool {
    match (a, b) {
        (JsValue::Number(x), JsValue::Number(y)) => x == y,
        _ => a == b,
    }
}

/// `ToNumber` for the primitives where it is simple; strings are left to Node.
fn to_number(v: &JsValue) -> Option<f64> {
    match v {
        JsValue::Number(n) => Some(*n),
        JsValue::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        JsValue::Null => Some(0.0),
        JsValue::Undefined => Some(f64::NAN),
        _ => None,
    }
}

fn is_object_prototype_member(key: &str) -> bool {
    matches!(
        key,
        "constructor"
            | "hasOwnProperty"
            | "isPrototypeOf"
            | "propertyIsEnumerable"
            | "toLocaleString"
            | "toString"
            | "valueOf"
            | "__proto__"
            | "__defineGetter__"
            | "__defineSetter__"
            | "__lookupGetter__"
            | "__lookupSetter__"
    )
}

fn source_snippet(text: &str, start: u32, end: u32) -> String {
    let s = text.get(start as usize..end as usize).unwrap_or_default();
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        format!("{}…", one_line.chars().take(60).collect::<String>())
    } else {
        one_line
    }
}

fn binding_name<'a>(pattern: &'a BindingPattern<'_>) -> Option<&'a str> {
    match pattern {
        BindingPattern::BindingIdentifier(id) => Some(id.name.as_str()),
        _ => None,
    }
}

fn value_export_names<'s>(
    specifiers: &'s [ExportSpecifier<'_>],
) -> impl Iterator<Item = String> + 's {
    specifiers
        .iter()
        .filter(|s| s.export_kind != ImportOrExportKind::Type)
        .map(|s| s.exported.name().to_string())
}

/// The names a module exports (value and type exports alike; type-only ones are skipped).
fn export_names(program: &Program<'_>) -> ExportNames {
    let mut out = ExportNames::default();
    for stmt in &program.body {
        let Some(decl) = stmt.as_module_declaration() else {
            continue;
        };
        match decl {
            ModuleDeclaration::ExportDeclaration(d) => match &d.declaration {
                Declaration::VariableDeclaration(v) => {
                    for declarator in &v.declarations {
                        out.names.extend(
                            declarator
                                .id
                                .get_binding_identifiers()
                                .iter()
                                .map(|id| id.name.to_string()),
                        );
                    }
                }
                Declaration::FunctionDeclaration(f) => {
                    out.names
                        .extend(f.id.as_ref().map(|id| id.name.to_string()));
                }
                Declaration::ClassDeclaration(c) => {
                    out.names
                        .extend(c.id.as_ref().map(|id| id.name.to_string()));
                }
                Declaration::TSEnumDeclaration(e) => out.names.push(e.id.name.to_string()),
                _ => {}
            },
            ModuleDeclaration::ExportNamedDeclaration(d)
                if d.export_kind != ImportOrExportKind::Type =>
            {
                out.names.extend(value_export_names(&d.specifiers));
            }
            ModuleDeclaration::ExportFromDeclaration(d)
                if d.export_kind != ImportOrExportKind::Type =>
            {
                out.names.extend(value_export_names(&d.specifiers));
            }
            ModuleDeclaration::ExportDefaultDeclaration(_) => out.names.push("default".to_owned()),
            ModuleDeclaration::ExportAllDeclaration(d) => match &d.exported {
                Some(name) => out.names.push(name.name().to_string()),
                None => out.has_star = true,
            },
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    static N: AtomicU32 = AtomicU32::new(0);

    /// Writes `files` into a fresh directory and evaluates `export name` of the first one.
    fn eval(files: &[(&str, &str)], name: &str) -> Result<String, String> {
        let dir = std::env::temp_dir().join(format!(
            "app-bundler-eval-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        for (path, text) in files {
            let p = dir.join(path);
            fs::create_dir_all(p.parent().unwrap_or(&dir)).map_err(|e| e.to_string())?;
            fs::write(&p, text).map_err(|e| e.to_string())?;
        }
        let resolver = Resolver::new(oxc_resolver::ResolveOptions {
            extensions: vec![".ts".into(), ".tsx".into(), ".json".into()],
            ..Default::default()
        });
        let mut ev = Evaluator::new(&dir, &resolver);
        let result = match ev.exports_and_value(&dir.join(files[0].0), name) {
            Ok((_, Some(Ok(v)))) => Ok(v
                .to_json_pretty()
                .unwrap_or_default()
                .replace(['\n', ' '], "")),
            Ok((_, Some(Err(EvalError::NotStatic(n))))) => Err(n.reason),
            Ok((_, None)) => Err("no export".to_owned()),
            Ok((_, Some(Err(EvalError::Syntax(d))))) | Err(EvalError::Syntax(d)) => {
                Err(format!("syntax: {}", d[0]))
            }
            Err(EvalError::NotStatic(n)) => Err(n.reason),
        };
        let _ = fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn literals_constants_and_operators() {
        let src = "const A = 'a'; const N = 2;\n\
            export const resource = { s: `${A}-${N * 3}`, n: -1.5e-7, b: !0, u: undefined, \
            x: null ?? 'd', arr: [1, , ...[A]], 'q': 1 as const, c: (N > 1 ? 1 : 2) satisfies number };";
        // `>` is not evaluated statically: goes to Node.
        assert!(eval(&[("a.ts", src)], "resource").is_err());
        let src = "const A = 'a'; const N = 2;\n\
            export const resource = { s: `${A}-${N * 3}`, n: -1.5e-7, b: !0, u: undefined, \
            x: null ?? 'd', arr: [1, , ...[A]], 'q': 1 as const, len: [1,2].length };";
        assert_eq!(
            eval(&[("a.ts", src)], "resource"),
            Ok(
                r#"{"s":"a-6","n":-1.5e-7,"b":true,"x":"d","arr":[1,null,"a"],"q":1,"len":2}"#
                    .to_owned()
            )
        );
    }

    #[test]
    fn integer_keys_come_first_like_javascript() {
        let src = "export const resource = { b: 1, 10: 2, 2: 3, a: 4, ...{ b: 5 } };";
        assert_eq!(
            eval(&[("a.ts", src)], "resource"),
            Ok(r#"{"2":3,"10":2,"b":5,"a":4}"#.to_owned())
        );
    }

    #[test]
    fn imports_reexports_namespaces_and_json() {
        let files = [
            (
                "r.tsx",
                "import { X as Y } from './c';\nimport * as ns from './c';\nimport d from './d.json';\nimport def from './c';\n\
                 export const resource = { y: Y, z: ns.Z, d: d.k, def, deep: ns.OBJ.inner[1] };",
            ),
            (
                "c.ts",
                "export { X } from './x';\nexport * from './z';\nexport const OBJ = { inner: [0, 'i'] };\nexport default 7;",
            ),
            ("x.ts", "export const X = 'x';"),
            ("z.ts", "const Z = 'z'; export { Z };"),
            ("d.json", "{ \"k\": [true] }"),
        ];
        assert_eq!(
            eval(&files, "resource"),
            Ok(r#"{"y":"x","z":"z","d":[true],"def":7,"deep":"i"}"#.to_owned())
        );
    }

    #[test]
    fn calls_packages_and_cycles_are_not_static() {
        let call = eval(
            &[(
                "a.ts",
                "const f = () => 1;\nexport const resource = { a: f() };",
            )],
            "resource",
        );
        assert!(call.is_err_and(|r| r.contains("the call `f()`") && r.contains("a.ts:2:")));
        let pkg = eval(
            &[(
                "a.ts",
                "import { Z } from 'zod';\nexport const resource = { Z };",
            )],
            "resource",
        );
        assert!(pkg.is_err_and(|r| r.contains("\"zod\"")));
        let cycle = eval(
            &[(
                "a.ts",
                "const A = B; const B = A;\nexport const resource = { A };",
            )],
            "resource",
        );
        assert!(cycle.is_err());
        let deep = format!(
            "export const resource = {}1{};",
            "[".repeat(400),
            "]".repeat(400)
        );
        assert!(eval(&[("a.ts", &deep)], "resource").is_err_and(|r| r.contains("deeply nested")));
    }

    #[test]
    fn syntax_errors_and_missing_exports() {
        assert!(
            eval(&[("a.ts", "export const resource = {;")], "resource")
                .is_err_and(|r| r.starts_with("syntax: a.ts:1:"))
        );
        assert_eq!(
            eval(&[("a.ts", "export const other = 1;")], "resource"),
            Err("no export".to_owned())
        );
    }
}
