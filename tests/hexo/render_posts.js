// Renders post bodies with real Hexo 8 (`hexo.post.render`: tag plugins, then
// hexo-renderer-marked), for tests/importing/test_tag_plugins.py.
//
//   node render_posts.js SITE_DIR < bodies.json > pages.json
//
// SITE_DIR is a Hexo site folder (package.json naming hexo-renderer-marked,
// node_modules, and a scripts/ folder for the site's own tags if it has any);
// stdin is a JSON list of Markdown bodies, stdout the JSON list of their HTML.
'use strict';

const fs = require('fs');
const Hexo = require('hexo');

async function main() {
  const bodies = JSON.parse(fs.readFileSync(0, 'utf8'));
  const hexo = new Hexo(process.argv[2], { silent: true });
  hexo.env.init = true; // a site: load its plugins and scripts/, as hexo-cli does
  await hexo.init();
  const pages = [];
  for (const content of bodies) {
    const data = await hexo.post.render(null, { content, engine: 'markdown' });
    pages.push(data.content);
  }
  process.stdout.write(JSON.stringify(pages));
}

main().catch(err => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
