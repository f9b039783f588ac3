package kernel

import "context"

// bg is the context of the tests' engine calls.
var bg = context.Background()
