"""Static files in production: whitenoise's compressed files under hashed names,
with the paths in the editor's JavaScript module imports hashed too.

Django hashes the paths of `import … from "./x.js"` only with
`support_js_module_import_aggregation` on (it is off by default). Without it a
hashed `systemmaps/editor/main.js` would import the plain `./document.js`, which a
browser may still hold from before a deploy, and the two would not match.

The pages name the hashed files even with DEBUG on: `make run` collects with this
storage and serves what production serves (Django's manifest storage would give
the plain names while DEBUG is on, and those are cached for no time at all).
"""

from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Our ES modules. The import patterns are for them alone: applied to every *.js they
# would also rewrite third-party bundles (django-htmx's extensions import a bare
# "htmx", which is no file of ours, and collectstatic would stop there).
ES_MODULES = "systemmaps/editor/*.js"


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
    _js_module_import_aggregation_patterns = (
        ES_MODULES,
        HashedFilesMixin._js_module_import_aggregation_patterns[1],
    )
    # A file's hashed name has the hashed names of its imports in it, so each level
    # of imports may take a pass to settle, and one more pass shows nothing changed:
    # the editor's longest chain is main → toolbar → autosave → document → labels →
    # shapes (five imports), so seven passes in the worst order, and Django does one
    # before these. (tests/test_production_settings.py checks the chain fits.)
    max_post_process_passes = 8

    def url(self, name: str | None, force: bool = False) -> str:
        return super().url(name, force=True)
