// Reads a feed file with podcast-partytime (the Podcast Index's parser) and prints what it kept, as JSON.
const { parseFeed } = require("podcast-partytime");
const fs = require("fs");
const feed = parseFeed(fs.readFileSync(process.argv[2], "utf8"));
if (!feed) { process.exit(3); }
console.log(JSON.stringify({
  locked: feed.locked === undefined ? null : feed.locked, owner: feed.podcastOwner || null,
  items: feed.items.map(i => ({ guid: i.guid, title: i.title, chapters: i.podcastChapters || null })),
}));
