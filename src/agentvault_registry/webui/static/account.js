// Account pages reached from mailed links. The token travels in the URL fragment, which the
// browser never sends to a server, and is posted to the API from here.
"use strict";

function tokenFromFragment() {
  const match = /(?:^|[#&])token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  return match ? match[1] : null;
}

function show(text, kind) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = kind;
}

async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { ok: response.ok, status: response.status, body: text ? JSON.parse(text) : null };
}

function problemText(answer) {
  const details = (answer.body && answer.body.details) || {};
  const fieldProblems = Object.values(details).flat().filter((item) => typeof item === "string");
  return fieldProblems.length ? fieldProblems.join(" ") : (answer.body && answer.body.message) || "Something went wrong.";
}

async function verifyEmail() {
  const token = tokenFromFragment();
  if (!token) {
    show("This link has no verification token. Open the link from the mail again.", "error");
    return;
  }
  const answer = await postJson("/api/v1/auth/verify-email", { token });
  if (answer.ok) {
    show(`Thank you, ${answer.body.username}: your email address is verified.`, "ok");
  } else {
    show(problemText(answer), "error");
  }
}

function resetPassword() {
  const token = tokenFromFragment();
  const form = document.getElementById("reset-form");
  if (!token) {
    form.hidden = true;
    show("This link has no reset token. Ask for a new link and open it from the mail.", "error");
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = form.elements["new_password"].value;
    if (password !== form.elements["confirm_password"].value) {
      show("The two passwords differ.", "error");
      return;
    }
    const answer = await postJson("/api/v1/auth/recover/confirm", { token, new_password: password });
    if (answer.ok) {
      form.hidden = true;
      show("Your password is changed. Every session was signed out; log in with the new password.", "ok");
    } else {
      show(problemText(answer), "error");
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "verify-email") {
    verifyEmail();
  } else if (page === "reset-password") {
    resetPassword();
  }
});
