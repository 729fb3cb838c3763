//! Helpers the three macros share to read their attribute options, so that each option
//! reads, and each mistake reads back, the same way in all of them.

use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, Lit, LitStr, Path};

/// Stores an option's value, refusing a second one: with two, one would be silently lost.
pub fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!(
            "`{}` is given twice; keep one",
            meta.path.to_token_stream()
        )));
    }
    *slot = Some(value);
    Ok(())
}

/// Parses `= "..."`, saying what to write when the value is not a string literal.
pub fn string_value(meta: &ParseNestedMeta<'_>, example: &str) -> syn::Result<LitStr> {
    meta.value()?.parse::<LitStr>().map_err(|error| {
        syn::Error::new(
            error.span(),
            format!(
                "`{}` takes a string literal: write `{example}`",
                meta.path.to_token_stream()
            ),
        )
    })
}

/// Parses `crate = "path"`: the path of the crate named `what` when it is reached through a
/// re-export. A bare path gets a message saying to quote it.
pub fn crate_path(meta: &ParseNestedMeta<'_>, what: &str, example: &str) -> syn::Result<Path> {
    let usage = format!(
        "`crate` is the path of the `{what}` crate when it is reached through a re-export, \
         e.g. `crate = \"{example}\"`"
    );
    let expr: Expr = meta.value()?.parse()?;
    let lit = match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit,
        Expr::Path(path) => {
            return Err(syn::Error::new_spanned(
                &expr,
                format!(
                    "write the path as a string: `crate = \"{}\"`",
                    path.path.to_token_stream().to_string().replace(' ', "")
                ),
            ));
        }
        _ => return Err(syn::Error::new_spanned(&expr, usage)),
    };
    lit.parse::<Path>()
        .map_err(|_| syn::Error::new(lit.span(), format!("not a path; {usage}")))
}
