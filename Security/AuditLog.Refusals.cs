namespace CapCluster.Security;

public sealed partial class AuditLog
{
    /// <summary>
    /// Ends the current aggregation interval: writes one record per peer, call and reason that counted more refusals than
    /// the first (this happens every <see cref="AuditLogOptions.RefusalInterval"/> and on <see cref="Dispose"/>).
    /// </summary>
    /// <exception cref="AuditWriteException">Some could not be written; they are kept for the next flush.</exception>
    public void FlushRefusals()
    {
        if (_refusals is null)
            return;
        var drained = _refusals.Drain(_time.GetUtcNow(), _options.RefusalInterval);
        List<AuditRecord> pending;
        long dropped;
        lock (_gate)
        {
            pending = [.. _unwrittenRefusals, .. drained];
            _unwrittenRefusals.Clear();
            dropped = _droppedRefusals;
            _droppedRefusals = 0;
        }

        if (dropped > 0)
            pending.Add(new AuditRecord(_time.GetUtcNow(), null, null, null, null, "audit", "aggregate", AuditRecord.Notice,
                $"{dropped} aggregated refusal record(s) were lost while the audit log was not writable", dropped));
        for (var i = 0; i < pending.Count; i++)
        {
            try
            {
                Write(pending[i]);
            }
            catch (AuditWriteException)
            {
                lock (_gate)
                {
                    foreach (var record in pending.Skip(i))
                    {
                        if (record.Outcome == AuditRecord.Notice)
                            _droppedRefusals += record.Count;
                        else if (_unwrittenRefusals.Count < 4 * _options.MaxRefusalKeys)
                            _unwrittenRefusals.Add(record);
                        else
                            _droppedRefusals++;
                    }
                }

                throw;
            }
        }
    }

    private void FlushRefusalsQuietly()
    {
        try
        {
            FlushRefusals();
        }
        catch (Exception e) when (e is CapClusterException or ObjectDisposedException)
        {
            // Kept for the next interval.
        }
    }
}
