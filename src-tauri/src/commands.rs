//! The UI's commands: thin, typed wrappers over the engine. Errors reach the UI as `CommandError`.
use std::sync::Arc;
use tally_client::view::*;
use tally_client::Engine;
use tally_protocol::{
    MessageId, Notification, NotificationId, PresenceStatus, RequestId, RoomId, RoomKind, UserSummary, Withdrawal,
};
use tauri::State;

pub type Engn<'a> = State<'a, Arc<Engine>>;
type R<T> = Result<T, CommandError>;

fn err(e: tally_client::Error) -> CommandError {
    e.into()
}
fn invalid(msg: &str) -> CommandError {
    CommandError::local(LocalErrorCode::InvalidInput, msg)
}
/// Runs a read of the cache on the blocking pool. Over a large cache a read can take hundreds of
/// milliseconds (a filtered page's exact count over a million rows); on the async runtime it would hold
/// one of its workers, which the socket task and every other command share.
async fn read<T: Send + 'static>(
    engine: &Engn<'_>,
    f: impl FnOnce(&Engine) -> Result<T, tally_client::Error> + Send + 'static,
) -> R<T> {
    let engine = Arc::clone(engine.inner());
    match tauri::async_runtime::spawn_blocking(move || f(&engine)).await {
        Ok(r) => r.map_err(err),
        Err(_) => Err(CommandError::local(LocalErrorCode::Storage, "the read of the cache stopped")),
    }
}
fn limit(n: u32, max: u32) -> R<u32> {
    if n == 0 || n > max {
        return Err(invalid(&format!("limit must be 1-{max}")));
    }
    Ok(n)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn demo_info(engine: Engn<'_>, server: String) -> R<DemoInfo> {
    engine.demo_info(&server).await.map_err(err)
}
/// `code`: the second factor, when the first try answered `two_factor_required`.
#[tauri::command(rename_all = "snake_case")]
pub async fn sign_in(
    engine: Engn<'_>,
    server: String,
    username: String,
    password: String,
    code: Option<String>,
) -> R<SessionInfo> {
    engine.sign_in(&server, &username, &password, code.as_deref()).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn registration_info(engine: Engn<'_>, server: String) -> R<RegistrationInfo> {
    engine.registration_info(&server).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn sign_up(
    engine: Engn<'_>,
    server: String,
    username: String,
    display_name: String,
    password: String,
    invite: Option<String>,
) -> R<SessionInfo> {
    let a = tally_client::engine::NewAccount {
        username: &username,
        display_name: &display_name,
        password: &password,
        invite: invite.as_deref(),
    };
    engine.sign_up(&server, a).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn devices(engine: Engn<'_>) -> R<Vec<DeviceSession>> {
    engine.devices().await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn sign_out_device(engine: Engn<'_>, id: String) -> R<()> {
    engine.sign_out_device(&id).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn sign_out_other_devices(engine: Engn<'_>) -> R<u32> {
    engine.sign_out_other_devices().await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn change_password(engine: Engn<'_>, current: String, new: String, code: Option<String>) -> R<u32> {
    engine.change_password(&current, &new, code.as_deref()).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn two_factor_status(engine: Engn<'_>) -> R<TwoFactorStatus> {
    engine.two_factor_status().await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn two_factor_setup(engine: Engn<'_>, password: String) -> R<TwoFactorSetup> {
    engine.two_factor_setup(&password).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn two_factor_enable(engine: Engn<'_>, code: String) -> R<Vec<String>> {
    engine.two_factor_enable(&code).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn app_lock_state(engine: Engn<'_>) -> R<AppLockState> {
    Ok(engine.app_lock_state())
}
/// `pin`: the new PIN (None turns the lock off); `current`: the PIN in use, when the lock is on.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_app_lock(engine: Engn<'_>, pin: Option<String>, after_minutes: u32, current: Option<String>) -> R<()> {
    engine.set_app_lock(pin, after_minutes, current).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn unlock(engine: Engn<'_>, pin: String) -> R<()> {
    engine.unlock(pin).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn lock_now(engine: Engn<'_>) -> R<()> {
    engine.lock_now();
    Ok(())
}
#[tauri::command(rename_all = "snake_case")]
pub async fn two_factor_disable(engine: Engn<'_>, password: String, code: String) -> R<()> {
    engine.two_factor_disable(&password, &code).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn two_factor_recovery_codes(engine: Engn<'_>, password: String, code: String) -> R<Vec<String>> {
    engine.two_factor_recovery_codes(&password, &code).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn session(engine: Engn<'_>) -> R<Option<SessionInfo>> {
    Ok(engine.session())
}
#[tauri::command(rename_all = "snake_case")]
pub async fn sign_out(engine: Engn<'_>, wipe: bool) -> R<()> {
    engine.sign_out(wipe).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn conn_state(engine: Engn<'_>) -> R<ConnState> {
    Ok(engine.conn_state())
}
#[tauri::command(rename_all = "snake_case")]
pub async fn reconnect_now(engine: Engn<'_>) -> R<()> {
    engine.reconnect_now().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn balances(engine: Engn<'_>) -> R<Vec<BalanceView>> {
    read(&engine, |e| e.balances()).await
}
#[tauri::command(rename_all = "snake_case")]
pub async fn transactions(engine: Engn<'_>, filter: TxFilter, cursor: Option<TxCursor>, limit: u32) -> R<TxPage> {
    let limit = self::limit(limit, 500)?;
    read(&engine, move |e| e.transactions(&filter, cursor.as_ref(), limit)).await
}
#[tauri::command(rename_all = "snake_case")]
pub async fn balance_history(engine: Engn<'_>, currency: String, filter: TxFilter) -> R<Vec<BalancePoint>> {
    read(&engine, move |e| e.balance_history(&currency, &filter)).await
}
#[tauri::command(rename_all = "snake_case")]
pub async fn spending_by_counterparty(engine: Engn<'_>, filter: TxFilter) -> R<Vec<CounterpartySpend>> {
    read(&engine, move |e| e.spending_by_counterparty(&filter)).await
}
#[tauri::command(rename_all = "snake_case")]
pub async fn export_csv(engine: Engn<'_>, filter: TxFilter) -> R<String> {
    read(&engine, move |e| e.export_csv(&filter)).await
}
#[tauri::command(rename_all = "snake_case")]
pub async fn transfers_open(engine: Engn<'_>) -> R<Vec<TransferView>> {
    engine.transfers_open().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn contacts(engine: Engn<'_>) -> R<Vec<UserSummary>> {
    engine.contacts().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn send_money(engine: Engn<'_>, req: SendMoney) -> R<TransferView> {
    engine.send_money(&req).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn rooms(engine: Engn<'_>) -> R<Vec<RoomView>> {
    engine.rooms().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn payment_requests(engine: Engn<'_>) -> R<Vec<RequestView>> {
    engine.payment_requests().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn request_money(engine: Engn<'_>, req: AskMoney) -> R<RequestView> {
    engine.request_money(&req).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn deposit_info(engine: Engn<'_>) -> R<DepositInfo> {
    engine.deposit_info().await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn withdraw(engine: Engn<'_>, req: WithdrawMoney) -> R<Withdrawal> {
    engine.withdraw(&req).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn split_bill(engine: Engn<'_>, req: SplitBill) -> R<Vec<RequestView>> {
    engine.split_bill(&req).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn pay_request(engine: Engn<'_>, request: RequestId) -> R<TransferView> {
    engine.pay_request(request).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn decline_request(engine: Engn<'_>, request: RequestId) -> R<RequestView> {
    engine.decline_request(request).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn cancel_request(engine: Engn<'_>, request: RequestId) -> R<RequestView> {
    engine.cancel_request(request).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn create_room(engine: Engn<'_>, kind: RoomKind, name: String, members: Vec<String>) -> R<RoomView> {
    engine.create_room(kind, &name, members).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn invite_member(engine: Engn<'_>, room: RoomId, username: String) -> R<RoomView> {
    engine.invite_member(room, &username).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn leave_room(engine: Engn<'_>, room: RoomId) -> R<()> {
    engine.leave_room(room).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn rename_room(engine: Engn<'_>, room: RoomId, name: String) -> R<RoomView> {
    engine.rename_room(room, &name).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn remove_member(engine: Engn<'_>, room: RoomId, username: String) -> R<RoomView> {
    engine.remove_member(room, &username).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn set_room_prefs(engine: Engn<'_>, room: RoomId, muted: bool, pinned: bool) -> R<RoomView> {
    engine.set_room_prefs(room, muted, pinned).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn messages(engine: Engn<'_>, room: RoomId, before_seq: Option<u64>, limit: u32) -> R<Vec<MessageView>> {
    engine.messages(room, before_seq, self::limit(limit, tally_client::view::MAX_PAGE)?).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn send_message(engine: Engn<'_>, room: RoomId, text: String) -> R<MessageView> {
    engine.send_message(room, &text).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn edit_message(engine: Engn<'_>, room: RoomId, message: MessageId, text: String) -> R<()> {
    engine.edit_message(room, message, &text).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn delete_message(engine: Engn<'_>, room: RoomId, message: MessageId) -> R<()> {
    engine.delete_message(room, message).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn react(engine: Engn<'_>, room: RoomId, message: MessageId, emoji: String, on: bool) -> R<()> {
    engine.react(room, message, &emoji, on).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn mark_read(engine: Engn<'_>, room: RoomId, up_to: u64) -> R<()> {
    engine.mark_read(room, up_to).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn set_typing(engine: Engn<'_>, room: RoomId, active: bool) -> R<()> {
    engine.set_typing(room, active).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn outbox(engine: Engn<'_>) -> R<Vec<OutboxItem>> {
    engine.outbox().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn retry_outbox(engine: Engn<'_>, id: i64) -> R<()> {
    engine.retry_outbox(id).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn discard_outbox(engine: Engn<'_>, id: i64) -> R<()> {
    engine.discard_outbox(id).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn notifications(engine: Engn<'_>, before: Option<NotificationId>, limit: u32) -> R<Vec<Notification>> {
    engine.notifications(before, self::limit(limit, tally_client::view::MAX_PAGE)?).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn mark_notifications_read(engine: Engn<'_>, ids: Vec<NotificationId>) -> R<()> {
    if ids.len() > 1000 {
        return Err(invalid("at most 1000 ids at once"));
    }
    engine.mark_notifications_read(&ids).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn mark_all_read(engine: Engn<'_>) -> R<()> {
    engine.mark_all_read().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn unread_counts(engine: Engn<'_>) -> R<UnreadCounts> {
    engine.unread_counts().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn search(engine: Engn<'_>, query: String) -> R<SearchResults> {
    if query.len() > 200 {
        return Err(invalid("search text is too long"));
    }
    read(&engine, move |e| e.search(&query)).await
}
#[tauri::command(rename_all = "snake_case")]
pub async fn search_room(engine: Engn<'_>, room: RoomId, query: String) -> R<Vec<MessageView>> {
    if query.len() > 200 {
        return Err(invalid("search text is too long"));
    }
    read(&engine, move |e| e.search_room(room, &query)).await
}
#[tauri::command(rename_all = "snake_case")]
pub async fn set_presence(engine: Engn<'_>, status: PresenceStatus) -> R<()> {
    engine.set_presence(status).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn prefs(engine: Engn<'_>) -> R<Prefs> {
    engine.prefs().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn set_prefs(engine: Engn<'_>, prefs: Prefs) -> R<()> {
    engine.set_prefs(&prefs).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn set_focused_view(engine: Engn<'_>, view: String, room: Option<RoomId>) -> R<()> {
    engine.set_focused_room(if view == "chat" { room } else { None });
    Ok(())
}
#[tauri::command(rename_all = "snake_case")]
pub async fn sync_progress(engine: Engn<'_>) -> R<SyncProgress> {
    engine.sync_progress().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn limits(engine: Engn<'_>) -> R<LimitsView> {
    engine.limits().map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn transfer_status(engine: Engn<'_>, key: String) -> R<Option<TransferView>> {
    engine.transfer_status(&key).map_err(err)
}
/// Exports the (filtered) history through the OS save dialog, opened in the Downloads folder. Returns
/// where the file went, or None when the user cancelled.
#[tauri::command(rename_all = "snake_case")]
pub async fn save_history_csv<Rt: tauri::Runtime>(
    app: tauri::AppHandle<Rt>,
    engine: Engn<'_>,
    filter: TxFilter,
) -> R<Option<String>> {
    use tauri::Manager;
    use tauri_plugin_dialog::DialogExt;
    let csv = read(&engine, move |e| e.export_csv(&filter)).await?;
    let name = format!(
        "tally-history-{}.csv",
        tally_client::store::queries::iso8601(tally_client::store::now_ms()).get(..10).unwrap_or("export")
    );
    let mut dialog = app.dialog().file().set_file_name(&name).add_filter("CSV", &["csv"]);
    if let Some(dir) = first_existing_dir([app.path().download_dir().ok(), app.path().home_dir().ok()]) {
        dialog = dialog.set_directory(dir);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog.save_file(move |p| {
        let _ = tx.send(p);
    });
    let Some(chosen) = rx.await.ok().flatten() else { return Ok(None) };
    let path = chosen.into_path().map_err(|e| invalid(&format!("that place cannot be written: {e}")))?;
    std::fs::write(&path, csv).map_err(|e| {
        CommandError::local(LocalErrorCode::Storage, format!("could not write {}: {e}", path.display()))
    })?;
    Ok(Some(path.display().to_string()))
}

/// Sends a file: its bytes are the request's raw body (no JSON, no base64), its room, name and caption
/// travel in the headers `room`, `name` and `caption` (percent-encoded UTF-8).
#[tauri::command(rename_all = "snake_case")]
pub async fn send_file(engine: Engn<'_>, request: tauri::ipc::Request<'_>) -> R<MessageView> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("send the file's bytes as the body"));
    };
    let header = |k: &str| -> R<String> {
        let v = request.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let decoded = percent_encoding::percent_decode_str(v).decode_utf8().map_err(|_| invalid("bad header"))?;
        Ok(decoded.into_owned())
    };
    let room: RoomId = header("room")?.parse().map_err(|_| invalid("which conversation?"))?;
    let (name, caption) = (header("name")?, header("caption")?);
    engine.send_file(room, &name, bytes.clone(), &caption).map_err(err)
}
/// A picture's thumbnail as a `data:` URL (kept for offline use once fetched).
#[tauri::command(rename_all = "snake_case")]
pub async fn attachment_thumbnail(engine: Engn<'_>, room: RoomId, id: String) -> R<String> {
    engine.attachment_thumbnail(room, &id).await.map_err(err)
}
/// A picture, whole, as a `data:` URL for the viewer (`download` events while it comes in).
#[tauri::command(rename_all = "snake_case")]
pub async fn open_picture(engine: Engn<'_>, room: RoomId, id: String) -> R<String> {
    engine.open_picture(room, &id).await.map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn cancel_download(engine: Engn<'_>, id: String) -> R<()> {
    engine.cancel_download(&id).map_err(err)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn file_cache(engine: Engn<'_>) -> R<FileCache> {
    read(&engine, |e| e.file_cache()).await
}
#[tauri::command(rename_all = "snake_case")]
pub async fn clear_file_cache(engine: Engn<'_>) -> R<()> {
    read(&engine, |e| e.clear_file_cache()).await
}
/// Saves a file of a conversation through the OS save dialog (opened in Downloads, named as sent).
/// Returns where it went, or None when the user cancelled.
#[tauri::command(rename_all = "snake_case")]
pub async fn save_attachment<Rt: tauri::Runtime>(
    app: tauri::AppHandle<Rt>,
    engine: Engn<'_>,
    room: RoomId,
    id: String,
    name: String,
) -> R<Option<String>> {
    use tauri::Manager;
    use tauri_plugin_dialog::DialogExt;
    engine.file_cache().map_err(err)?; // signed in and unlocked before a dialog opens
    let mut dialog = app.dialog().file().set_file_name(tally_protocol::attachment::clean_name(&name));
    if let Some(dir) = first_existing_dir([app.path().download_dir().ok(), app.path().home_dir().ok()]) {
        dialog = dialog.set_directory(dir);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog.save_file(move |p| {
        let _ = tx.send(p);
    });
    let Some(chosen) = rx.await.ok().flatten() else { return Ok(None) };
    let path = chosen.into_path().map_err(|e| invalid(&format!("that place cannot be written: {e}")))?;
    engine.save_attachment(room, &id, &path).await.map_err(err)?;
    Ok(Some(path.display().to_string()))
}

/// Where a save dialog opens: the first of `candidates` that is a directory (Downloads, else the home
/// folder; a Downloads that does not exist must not leave the dialog in the working directory).
fn first_existing_dir<const N: usize>(candidates: [Option<std::path::PathBuf>; N]) -> Option<std::path::PathBuf> {
    candidates.into_iter().flatten().find(|d| d.is_dir())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_save_dialog_opens_in_downloads_else_home() {
        let home = tempfile::tempdir().unwrap();
        let downloads = home.path().join("Downloads");
        let pick = || super::first_existing_dir([Some(downloads.clone()), Some(home.path().to_path_buf())]);
        assert_eq!(pick(), Some(home.path().to_path_buf()), "no Downloads: the home folder");
        std::fs::create_dir(&downloads).unwrap();
        assert_eq!(pick(), Some(downloads.clone()));
        assert_eq!(super::first_existing_dir::<1>([None]), None);
    }
}

/// Shows a saved file in the system's file manager.
#[tauri::command(rename_all = "snake_case")]
pub async fn show_in_folder(path: String) -> R<()> {
    tauri_plugin_opener::reveal_item_in_dir(&path)
        .map_err(|e| CommandError::local(LocalErrorCode::Storage, format!("could not show {path}: {e}")))
}

/// Whether Tally starts (in the background) when the user logs in.
#[tauri::command(rename_all = "snake_case")]
pub async fn start_at_login<R: tauri::Runtime>(app: tauri::AppHandle<R>) -> R2<bool> {
    login_items(&app)?.is_enabled().map_err(login_item)
}
#[tauri::command(rename_all = "snake_case")]
pub async fn set_start_at_login<R: tauri::Runtime>(app: tauri::AppHandle<R>, on: bool) -> R2<bool> {
    let a = login_items(&app)?;
    if on { a.enable() } else { a.disable() }.map_err(login_item)?;
    a.is_enabled().map_err(login_item)
}
type R2<T> = Result<T, CommandError>;
/// The autostart plugin's manager; absent where the platform has no login items (mobile).
fn login_items<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
) -> R2<tauri::State<'_, tauri_plugin_autostart::AutoLaunchManager>> {
    use tauri::Manager;
    app.try_state().ok_or_else(|| CommandError::local(LocalErrorCode::InvalidInput, "this device has no login items"))
}
fn login_item(e: tauri_plugin_autostart::Error) -> CommandError {
    CommandError::local(LocalErrorCode::Storage, format!("could not change the login item: {e}"))
}
/// Holds native notifications back for `minutes` (0 resumes them).
#[tauri::command(rename_all = "snake_case")]
pub async fn pause_notifications(engine: Engn<'_>, minutes: u32) -> R<Prefs> {
    engine.pause_notifications(minutes).map_err(err)
}
/// The `tally://` link opened last, once (None when there is none): what it asks for, or why not.
#[tauri::command(rename_all = "snake_case")]
pub async fn take_link(pending: State<'_, crate::links::PendingLink>) -> R<Option<tally_client::links::OpenedLink>> {
    Ok(pending.take())
}
/// The UI's language and how it writes money: for native notifications (the engine) and the words the
/// shell shows itself (tray, "still running"). A language Tally does not speak, or a malformed style, is
/// refused and changes nothing.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_locale<Rt: tauri::Runtime>(
    app: tauri::AppHandle<Rt>,
    engine: Engn<'_>,
    style: tally_client::display::DisplayStyle,
) -> R<()> {
    let lang = style.lang();
    engine.set_display(style).map_err(err)?;
    crate::shell_text::set(lang);
    crate::tray::refresh(&app);
    Ok(())
}
/// Asks the update feed for a newer version (signed with this build's key).
#[tauri::command(rename_all = "snake_case")]
pub async fn check_update<R: tauri::Runtime>(app: tauri::AppHandle<R>) -> R2<UpdateCheck> {
    crate::updates::check(&app).await
}
/// Downloads, verifies and installs the newer version, then restarts into it.
#[tauri::command(rename_all = "snake_case")]
pub async fn install_update<R: tauri::Runtime>(app: tauri::AppHandle<R>) -> R2<()> {
    crate::updates::install(&app).await
}
