// The current tab sent to a URL after a delay, so the command returns before the navigation starts (session.py).
// Arguments: the URL, the delay in ms.
setTimeout(() => { window.location.href = arguments[0]; }, arguments[1]);
