//! User-defined types in the binder: resolving a type name written in SQL
//! to a built-in type or to an enum type of the catalog
//! ([`Binder::resolve_type`]), and binding `CREATE TYPE ... AS ENUM` and
//! `ALTER TYPE` into plans.
//!
//! Built-in names win over user-defined ones, as in PostgreSQL with
//! `pg_catalog` first on the search path (a user type called `int4` is
//! reachable only schema-qualified).

use freshet_common::{DataType, Error, Result, SqlState};
use sqlparser::ast;

use super::Binder;
use crate::names;
use crate::plan::{AlterEnumAction, Plan};
use crate::typing;

impl Binder<'_> {
    /// The type a SQL type name denotes: a built-in one
    /// ([`typing::data_type`]) or a user-defined enum type (or an array of
    /// one) of the catalog. 42704 `type "x" does not exist` otherwise.
    pub(crate) fn resolve_type(&self, ty: &ast::DataType) -> Result<DataType> {
        match typing::data_type(ty) {
            Err(e) if e.state == SqlState::UndefinedObject => match self.user_type(ty)? {
                Some(t) => Ok(t),
                None => Err(e),
            },
            other => other,
        }
    }

    /// A user-defined type named by `ty`, if the catalog has it.
    fn user_type(&self, ty: &ast::DataType) -> Result<Option<DataType>> {
        use ast::ArrayElemTypeDef as E;
        match ty {
            ast::DataType::Array(E::SquareBracket(inner, _) | E::AngleBracket(inner) | E::Parenthesis(inner)) => {
                Ok(self.user_type(inner)?.map(|t| match t {
                    DataType::Array(_) => t,
                    elem => DataType::Array(Box::new(elem)),
                }))
            }
            ast::DataType::Custom(name, modifiers) => {
                let parts = names::object_name(name);
                let (schema, base) = match parts.as_slice() {
                    [n] => (None, n.as_str()),
                    [s, n] | [_, s, n] => (Some(s.as_str()), n.as_str()),
                    _ => return Ok(None),
                };
                let found = match base.strip_suffix("[]") {
                    Some(elem) => self.catalog.user_type(schema, elem).map(|t| DataType::Array(Box::new(t))),
                    None => self.catalog.user_type(schema, base),
                };
                if found.is_some() && !modifiers.is_empty() {
                    return Err(Error::new(
                        SqlState::SyntaxError,
                        format!("type modifier is not allowed for type \"{base}\""),
                    ));
                }
                Ok(found)
            }
            _ => Ok(None),
        }
    }

    /// The enum type a name denotes; 42704 when there is no type of that
    /// name, 42809 `x is not an enum` for another type.
    fn enum_type_named(&self, name: &ast::ObjectName) -> Result<freshet_common::EnumType> {
        let ty = self.resolve_type(&ast::DataType::Custom(name.clone(), vec![]));
        match ty {
            Ok(DataType::Enum(t)) => Ok(t),
            Ok(other) => Err(Error::new(SqlState::WrongObjectType, format!("{other} is not an enum"))),
            Err(e) if e.state == SqlState::UndefinedObject => {
                // A table's row type (PostgreSQL has one per table).
                let (schema, base) = names::schema_and_name(name);
                if self.catalog.relation(schema.as_deref(), &base).is_some() {
                    return Err(Error::new(SqlState::WrongObjectType, format!("{base} is not an enum")));
                }
                Err(Error::new(SqlState::UndefinedObject, format!("type \"{base}\" does not exist")))
            }
            Err(e) => Err(e),
        }
    }

    /// `CREATE TYPE name AS ENUM ('a', ...)`; other kinds of types are not
    /// supported (0A000).
    pub(crate) fn bind_create_type(
        &mut self,
        name: &ast::ObjectName,
        representation: Option<&ast::UserDefinedTypeRepresentation>,
    ) -> Result<Plan> {
        let Some(ast::UserDefinedTypeRepresentation::Enum { labels }) = representation else {
            let kind = match representation {
                Some(ast::UserDefinedTypeRepresentation::Composite { .. }) => "composite types",
                Some(ast::UserDefinedTypeRepresentation::Range { .. }) => "range types",
                _ => "base types",
            };
            return Err(Error::new(SqlState::FeatureNotSupported, format!("{kind} are not supported"))
                .with_hint("Freshet supports enum types: CREATE TYPE name AS ENUM ('label', ...)."));
        };
        let (schema, name) = names::schema_and_name(name);
        let schema = self.schema_for_create(schema)?;
        let mut out = Vec::with_capacity(labels.len());
        for l in labels {
            let label = enum_label(l)?;
            freshet_common::enum_type::check_label(&label)?;
            out.push(label);
        }
        Ok(Plan::CreateEnum { schema, name, labels: out })
    }

    /// `ALTER TYPE name ADD VALUE / RENAME VALUE / RENAME TO`.
    pub(crate) fn bind_alter_type(&mut self, alter: &ast::AlterType) -> Result<Plan> {
        let ty = self.enum_type_named(&alter.name)?;
        let action = match &alter.operation {
            ast::AlterTypeOperation::AddValue(add) => {
                let label = enum_label(&add.value)?;
                freshet_common::enum_type::check_label(&label)?;
                let neighbour = match &add.position {
                    None => None,
                    Some(ast::AlterTypeAddValuePosition::Before(n)) => Some((enum_label(n)?, false)),
                    Some(ast::AlterTypeAddValuePosition::After(n)) => Some((enum_label(n)?, true)),
                };
                AlterEnumAction::AddValue { label, if_not_exists: add.if_not_exists, neighbour }
            }
            ast::AlterTypeOperation::RenameValue(r) => {
                let to = enum_label(&r.to)?;
                freshet_common::enum_type::check_label(&to)?;
                AlterEnumAction::RenameValue { from: enum_label(&r.from)?, to }
            }
            ast::AlterTypeOperation::Rename(r) => AlterEnumAction::Rename { new_name: names::ident(&r.new_name) },
        };
        Ok(Plan::AlterEnum { type_oid: ty.oid(), action })
    }
}

/// An enum label: a string literal (sqlparser hands it over as an
/// identifier quoted with `'`). A bare word is PostgreSQL's syntax error.
fn enum_label(id: &ast::Ident) -> Result<String> {
    if id.quote_style == Some('\'') {
        Ok(id.value.clone())
    } else {
        Err(Error::syntax(format!("syntax error at or near \"{}\"", id.value)))
    }
}
