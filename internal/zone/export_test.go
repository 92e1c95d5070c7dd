package zone

// ShardCount exposes the shard count of a zone's name map to tests.
func ShardCount(z *Zone) int { return len(z.nodes.shards) }

// ShardMax exposes the most entries a shard holds before the map re-splits.
const ShardMax = shardMax
