//! A finding that keeps a product from deploying, as the dashboard's tiles and Review Pending
//! Changes show it: the form and the field's label linking to the field, the message, and the
//! service's reference in small type for operators who script with om. The wording itself
//! comes from the server (`backend::Problem`), so both pages say the same.

use leptos::prelude::*;

use crate::backend::Problem;

#[component]
pub fn ProblemItem(problem: Problem) -> impl IntoView {
    let place = match &problem.form {
        Some(form) => format!("{form} › {}", problem.label),
        None => problem.label.clone(),
    };
    let field = match problem.href.clone() {
        Some(href) => view! { <a class="problem-field" href=href>{place}</a> }.into_any(),
        None => view! { <span class="problem-field">{place}</span> }.into_any(),
    };
    view! {
        <li class="problem" data-reference=problem.reference.clone()>
            {field}
            <span class="problem-message">{format!(": {}", problem.message)}</span>
            " "
            <code class="problem-reference">{problem.reference.clone()}</code>
        </li>
    }
}
