package workflows

// ReplayHistoryFile is replayHistoryFile, for the external tests (the
// traced replay).
var ReplayHistoryFile = replayHistoryFile
