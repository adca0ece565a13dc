// A classic script of the editor page only, loaded by static-view.js before x6.min.js.
//
// X6's plugins (selection, snapline, minimap, dnd) insert their CSS as <style>
// elements even with X6.Config.autoInsertCSS off. The CSP refuses them (and logs a
// violation each time); editor.css already carries those rules, so leave them out.
// static-view.js waits for it to run before it adds X6 and the editor.
(function () {
  "use strict";

  var insertBefore = Node.prototype.insertBefore;
  Node.prototype.insertBefore = function (node, child) {
    if (
      this === document.head &&
      node instanceof HTMLStyleElement &&
      /^\s*\.x6-/.test(node.textContent || "")
    ) {
      return node;
    }
    return insertBefore.call(this, node, child);
  };
})();
