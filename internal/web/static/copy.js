// Copy buttons: <button data-copy="ID"> copies the text of the element with
// that id. Served from graphgate itself, as the page's CSP requires.
document.addEventListener("click", function (e) {
  var button = e.target.closest("button[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) return;
  var label = button.textContent;
  var done = function (text) {
    button.textContent = text;
    setTimeout(function () { button.textContent = label; }, 2000);
  };
  if (!navigator.clipboard) {
    window.getSelection().selectAllChildren(source);
    done("Selected: press Ctrl+C");
    return;
  }
  navigator.clipboard.writeText(source.textContent).then(function () { done("Copied"); }, function () {
    window.getSelection().selectAllChildren(source);
    done("Selected: press Ctrl+C");
  });
});
