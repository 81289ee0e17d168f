#!/usr/bin/env node
// Print, as JSON, every post and page of a Hexo site as real Hexo reads it.
//
//   node tests/hexo/dump_posts.js SITE_DIR
//
// The site is loaded through Hexo's own API, as its CLI (hexo-cli's hexo.js)
// does: `new Hexo(dir, args)`, `init()` (config, plugins from the site's
// package.json, `scripts/`), then `load()` (read the source folder, then the
// `before_generate` filters, which render every post's content). Nothing is
// written: no `public/`, and `exit()` (which saves db.json) is never called.
// Where the site has no package.json naming a Markdown renderer, the
// hexo-renderer-marked installed beside this script is loaded into it, so a
// site folder can be read in place.
//
// The output is one JSON object: {"hexo": version, "timezone": …, "problems":
// [{level, message}] (what Hexo logged as errors and warnings), "highlight_languages",
// "posts": [...]},
// each post {source, layout, slug, title, date, updated, categories (chains,
// root first), tags, excerpt, content (rendered HTML), path, permalink, published,
// front_matter_date, front_matter_updated}.
// Dates are ISO 8601 instants in UTC (`Date.prototype.toISOString`).
'use strict';

const path = require('path');
const util = require('util');
const Hexo = require('hexo');
const frontMatter = require('hexo-front-matter');

function usage(message) {
  process.stderr.write(`${message}\nusage: node dump_posts.js SITE_DIR\n`);
  process.exit(2);
}

function iso(value) {
  if (value == null) return null;
  const date = typeof value.toDate === 'function' ? value.toDate() : value; // moment or Date
  return Number.isNaN(date.valueOf()) ? null : date.toISOString();
}

// Hexo keeps a post's categories as a flat list, each with its parent's id:
// the chains are the paths from the root to each category that is no other
// one's parent among this post's categories.
function categoryChains(post) {
  const cats = post.categories ? post.categories.toArray() : [];
  const byId = new Map(cats.map(cat => [cat._id, cat]));
  const parents = new Set(cats.map(cat => cat.parent).filter(Boolean));
  return cats.filter(cat => !parents.has(cat._id)).map(leaf => {
    const chain = [];
    for (let cat = leaf; cat; cat = cat.parent ? byId.get(cat.parent) : null) chain.unshift(cat.name);
    return chain;
  });
}

function describe(post, layout) {
  let meta = {};
  try {
    meta = frontMatter.parse(post.raw || '');
  } catch (err) {
    meta = {};
  }
  return {
    source: post.source,
    layout,
    slug: post.slug == null ? null : post.slug,
    title: post.title == null ? '' : String(post.title),
    date: iso(post.date),
    updated: iso(post.updated),
    categories: layout === 'post' ? categoryChains(post) : [],
    tags: layout === 'post' && post.tags ? post.tags.map(tag => tag.name) : [],
    excerpt: post.excerpt == null ? '' : post.excerpt,
    content: post.content == null ? '' : post.content,
    path: post.path,
    permalink: post.permalink,
    published: layout === 'post' ? Boolean(post.published) : true,
    // Whether the front matter itself gives these (else Hexo took the file name's or the file's times)
    front_matter_date: meta.date != null,
    front_matter_updated: meta.updated != null
  };
}

async function main() {
  const dir = process.argv[2];
  if (!dir) usage('SITE_DIR missing');
  const base = path.resolve(dir);
  const hexo = new Hexo(base, {silent: true, draft: true});
  hexo.env.init = true; // as hexo-cli sets it on finding a site: load its plugins and scripts/
  // What Hexo logs as an error or a warning (a file it could not read, …), kept for the report
  const problems = [];
  for (const level of ['error', 'warn']) {
    hexo.log[level] = (...args) => {
      const err = args[0] && args[0].err;
      const text = util.format(...(err ? args.slice(1) : args));
      problems.push({level, message: err ? `${text}: ${String(err.message || err).split('\n')[0]}` : text});
    };
  }
  await hexo.init();
  if (!hexo.render.isRenderable('x.md')) {
    await hexo.loadPlugin(require.resolve('hexo-renderer-marked'));
  }
  await hexo.load();
  const posts = hexo.model('Post').toArray().map(post => describe(post, 'post'))
    .concat(hexo.model('Page').toArray().map(page => describe(page, 'page')));
  posts.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  const out = {
    hexo: hexo.version,
    timezone: hexo.config.timezone || null,
    // The code languages Hexo's highlighting knows (hexo-util: highlight.js's names and
    // aliases); a fenced block in any other language it writes as `plaintext`
    highlight_languages: Object.keys(require('hexo-util/highlight_alias.json').aliases).sort(),
    problems,
    posts
  };
  // exit only once all of it is written: a pipe takes it in 64 KiB pieces
  await new Promise(resolve => process.stdout.write(JSON.stringify(out, null, 1) + '\n', resolve));
}

main().then(() => process.exit(0), err => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
