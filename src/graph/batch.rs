//! Reads of many resources through `POST /v1.0/$batch` (DESIGN.md "Graph at tenant scale"): at most 20 requests in
//! one, each with its own status in the answer. Each request spends its own place in the budget (the envelope
//! spends none); a throttled or busy item is sent again, alone with the others like it, after the largest
//! `Retry-After` among them, and only those. keycred batches reads only, so a batch never holds two writes to one
//! object.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{backoff, errors, GraphClient, Spend};
use crate::error::{Error, Result};

/// Graph's largest `$batch`.
pub const MAX_BATCH: usize = 20;

impl GraphClient {
    /// GETs every path (relative to the version: `/applications/{id}?$select=…`), 20 to a `$batch`; each answer in
    /// the paths' order, a 2xx answer's body or the error Graph gave for that item. An error of the envelope
    /// itself ends them all.
    pub fn get_many(&self, paths: &[String]) -> Result<Vec<Result<Value>>> {
        let mut answers: Vec<Option<Result<Value>>> = paths.iter().map(|_| None).collect();
        let mut queue: std::collections::VecDeque<usize> = (0..paths.len()).collect();
        while !queue.is_empty() {
            let chunk: Vec<usize> = queue.drain(..queue.len().min(MAX_BATCH)).collect();
            // What found no place in the budget goes in the next batch, first.
            for index in self
                .batch_chunk(paths, chunk, &mut answers)?
                .into_iter()
                .rev()
            {
                queue.push_front(index);
            }
        }
        Ok(answers
            .into_iter()
            .map(|a| a.expect("every item of every batch is answered"))
            .collect())
    }

    /// One batch of at most 20, and its retries; returns the items it left for the next batch. The first item
    /// waits for its place in the budget; the others go along only if a place is free now, so that a batch never
    /// holds places idle while it waits for the last of twenty (a window of 135 would otherwise pass six batches
    /// of twenty, 120, and leave 15 places unused).
    fn batch_chunk(
        &self,
        paths: &[String],
        mut pending: Vec<usize>,
        answers: &mut [Option<Result<Value>>],
    ) -> Result<Vec<usize>> {
        let deadline = Instant::now() + self.timeout;
        let url = format!("{}/v1.0/$batch", self.base);
        let mut attempt = 0u32;
        let mut left = Vec::new();
        while !pending.is_empty() {
            // Each item's own place in the budget, held until its answer is in.
            let mut tickets = Vec::with_capacity(pending.len());
            for (position, index) in pending.iter().enumerate() {
                let spend = Spend::of("GET", &paths[*index]);
                if position == 0 || attempt > 0 {
                    tickets.push(
                        self.budget
                            .spend(spend, deadline)
                            .ok_or_else(|| self.past_deadline("POST /v1.0/$batch"))?,
                    );
                } else if let Some(ticket) = self.budget.spend(spend, Instant::now()) {
                    tickets.push(ticket);
                } else {
                    left = pending.split_off(position);
                    break;
                }
            }
            let body = json!({"requests": pending.iter().map(|i| json!({
                "id": i.to_string(),
                "method": "GET",
                "url": paths[*i],
            })).collect::<Vec<_>>()});
            let answer = self.send_spending("POST", &url, Some(&body), false, deadline, None)?;
            drop(tickets);
            let mut again = Vec::new();
            let mut wait: Option<Duration> = None;
            for index in pending {
                let what = format!("GET {} (in a $batch)", paths[index]);
                let Some(item) = item_answer(&answer.body, index) else {
                    answers[index] = Some(Err(Error::Network(format!(
                        "{what}: Graph's $batch answer has no response for it"
                    ))));
                    continue;
                };
                let status = item
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(0);
                let header = |name: &str| header(item, name);
                self.heed_limit(
                    header("x-ms-throttle-limit-percentage")
                        .and_then(|v| v.trim().parse::<f64>().ok()),
                );
                let body = item.get("body").cloned().unwrap_or(Value::Null);
                if (200..300).contains(&status) {
                    answers[index] = Some(Ok(body));
                    continue;
                }
                let request_id = header("request-id");
                if matches!(status, 429 | 503 | 504) && attempt < self.max_retries {
                    let asked = header("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs)
                        .unwrap_or_else(|| backoff(attempt));
                    wait = Some(wait.map_or(asked, |w| w.max(asked)));
                    again.push(index);
                    continue;
                }
                let extra = matches!(status, 429 | 503 | 504).then(|| {
                    format!(
                        "still refused after {attempt} retries (--max-retries {}); nothing more was sent for it",
                        self.max_retries
                    )
                });
                answers[index] = Some(Err(errors::graph_error(
                    &what,
                    status,
                    &body,
                    request_id.as_deref(),
                    extra,
                )));
            }
            if let Some(wait) = wait.filter(|_| !again.is_empty()) {
                let until = Instant::now() + wait;
                if until > deadline {
                    for index in again {
                        answers[index] = Some(Err(Error::Network(format!(
                            "GET {} (in a $batch): Graph asked to wait {} s, past this request's --timeout; nothing \
                             more was sent for it",
                            paths[index],
                            wait.as_secs()
                        ))));
                    }
                    return Ok(left);
                }
                self.throttle.hold_until(until);
            }
            pending = again;
            attempt += 1;
        }
        Ok(left)
    }
}

/// The response for item `index` in a `$batch` answer (Graph may answer them in any order).
pub(crate) fn item_answer(body: &Value, index: usize) -> Option<&Value> {
    let id = index.to_string();
    body.get("responses")?
        .as_array()?
        .iter()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(id.as_str()))
}

/// A header of one item's answer, by name in any case.
pub(crate) fn header(item: &Value, name: &str) -> Option<String> {
    item.get("headers")?
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| match v {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}
